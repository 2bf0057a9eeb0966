import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEachTest } from "../../support/cleanup.ts";
import { eventually } from "../../support/wait.ts";

const servers: http.Server[] = [];
afterEachTest(async () => {
  while (servers.length) {
    const s = servers.pop()!;
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

export interface WebhookServer {
  url: string;
  /** Every request received: status answered and parsed JSON body. */
  received: { status: number; body: unknown; contentType: string | undefined }[];
  /** Resolves once `n` requests have arrived (polls; fails after `WAIT_MS`). */
  waitFor(n: number): Promise<void>;
}

/** A webhook receiver on 127.0.0.1 answering each request with the next status in `statuses` (then 204). */
export async function webhookServer(statuses: number[]): Promise<WebhookServer> {
  const received: WebhookServer["received"] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      const status = statuses[received.length] ?? 204;
      received.push({ status, body: JSON.parse(body), contentType: req.headers["content-type"] });
      res.writeHead(status).end();
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/lifeboat?token=s3cret-in-query`,
    received,
    waitFor(n) {
      return eventually(() => received.length >= n, `${n} webhook request(s)`);
    },
  };
}
