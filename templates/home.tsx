import type { Readiness } from "../src/health.ts";
import { Layout, type Viewer } from "./layout.tsx";

export interface HomeProps {
  version: string;
  readiness: Readiness;
  viewer?: Viewer | null;
  assetVersion?: string;
}

const LABELS: Record<string, string> = {
  database: "Database",
  backupDir: "Backup folder",
};

/** The start page: is the service healthy, and where to go next. */
export function HomePage(props: HomeProps) {
  return (
    <Layout title="Overview" current="/" viewer={props.viewer} assetVersion={props.assetVersion}>
      <section class="card">
        <h1>Lifeboat</h1>
        <p class="muted">Version {props.version}</p>
        <p>
          Status:{" "}
          <strong class={`badge ${props.readiness.status}`}>{props.readiness.status}</strong>
        </p>
        <ul class="checks">
          {Object.entries(props.readiness.checks).map(([name, r]) => (
            <li>
              <span class={`badge ${r.ok ? "ready" : r.degraded ? "degraded" : "unready"}`}>
                {r.ok ? "ok" : r.degraded ? "degraded" : "failing"}
              </span>{" "}
              {LABELS[name] ?? name}
              {r.reason && <span class="muted"> — {r.reason}</span>}
            </li>
          ))}
        </ul>
      </section>
    </Layout>
  );
}
