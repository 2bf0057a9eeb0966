import type { Child } from "hono/jsx";
import { Layout, type Viewer } from "./layout.tsx";

/**
 * The readable API reference, rendered on the server from the OpenAPI document
 * (no script, no CDN bundle: the CSP allows neither). Only the parts of OpenAPI
 * 3.1 that the generator emits are handled: $ref into components.schemas,
 * objects, arrays, enums, unions and nullable type lists.
 */

type Json = Record<string, unknown>;

interface Operation {
  method: string;
  path: string;
  op: Json;
}

export interface ApiDocsProps {
  /** The OpenAPI object, read loosely: only what the page shows. */
  document: object;
  viewer?: Viewer | null;
  assetVersion?: string;
}

const METHODS = ["get", "post", "put", "patch", "delete"];

const obj = (v: unknown): Json => (v && typeof v === "object" && !Array.isArray(v) ? (v as Json) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** Text with `code spans` (the only markdown the descriptions use). */
function Prose(props: { text: string }) {
  return <>{props.text.split(/(`[^`]+`)/).map((part) => (part.startsWith("`") && part.endsWith("`") && part.length > 1 ? <code>{part.slice(1, -1)}</code> : part))}</>;
}

/** Every operation of the document, in path order, each with a stable anchor. */
function operationsOf(document: Json): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(obj(document.paths))) {
    for (const method of METHODS) {
      const op = obj(item)[method];
      if (op) out.push({ method, path, op: obj(op) });
    }
  }
  return out;
}

function anchorOf(o: Operation): string {
  return `${o.method}-${o.path}`.replace(/[^A-Za-z0-9]+/g, "-").replace(/-+$/, "");
}

/** Follows a `$ref` into components.schemas; returns the schema and its component name. */
function resolve(document: Json, schema: Json): { schema: Json; name?: string } {
  const ref = str(schema.$ref);
  if (!ref?.startsWith("#/components/schemas/")) return { schema };
  const name = ref.slice("#/components/schemas/".length);
  return { schema: obj(obj(obj(document.components).schemas)[name]), name };
}

/** A short type label: `string (date-time)`, `integer or null`, `array of Backup`. */
function typeLabel(document: Json, raw: Json): string {
  const { schema, name } = resolve(document, raw);
  if (name) return arr(schema.type).includes("null") ? `${name} or null` : name;
  const types = arr(schema.type).length ? arr(schema.type).map(String) : schema.type ? [String(schema.type)] : [];
  if (schema.enum) return `one of ${arr(schema.enum).map((v) => JSON.stringify(v)).join(", ")}`;
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  const union = arr(schema.anyOf).length ? arr(schema.anyOf) : arr(schema.oneOf);
  if (union.length) return union.map((s) => typeLabel(document, obj(s))).join(" or ");
  const parts = types.map((t) => {
    if (t === "array") return `array of ${typeLabel(document, obj(schema.items))}`;
    if (t === "object" && schema.additionalProperties && !schema.properties) {
      return `map of ${typeLabel(document, obj(schema.additionalProperties))}`;
    }
    return t;
  });
  const format = str(schema.format);
  return (parts.join(" or ") || "any") + (format ? ` (${format})` : "");
}

/**
 * Nested field list of an object schema. A named component is spelled out
 * once per `expanded` set (one per endpoint); later mentions point back to it.
 */
function SchemaView(props: { document: Json; schema: Json; expanded?: Set<string>; nested?: boolean }): Child {
  const { document } = props;
  const expanded = props.expanded ?? new Set<string>();
  const { schema, name } = resolve(document, props.schema);
  // Inside a field list the type label already names it; at the top, say where it is.
  if (name && expanded.has(name)) return props.nested ? null : <p class="schema-type muted">{name}: as described above</p>;
  if (name) expanded.add(name);
  const union = arr(schema.anyOf).length ? arr(schema.anyOf) : arr(schema.oneOf);
  if (union.length) {
    const objects = union.map((s) => obj(s)).filter((s) => resolve(document, s).schema.properties);
    if (objects.length === 1) return <SchemaView document={document} schema={objects[0]!} expanded={expanded} nested={props.nested} />;
  }
  const items = obj(schema.items);
  if (arr(schema.type).includes("array") || schema.type === "array") {
    return (
      <div class="schema">
        <p class="schema-type">
          {name ? `${name}: ` : ""}array of {typeLabel(document, items)}
        </p>
        {resolve(document, items).schema.properties ? <SchemaView document={document} schema={items} expanded={expanded} nested /> : null}
      </div>
    );
  }
  const properties = obj(schema.properties);
  const required = new Set(arr(schema.required).map(String));
  if (!Object.keys(properties).length) {
    return <p class="schema-type">{name ? `${name}: ` : ""}{typeLabel(document, schema)}</p>;
  }
  return (
    <div class="schema">
      {name && <p class="schema-type">{name}</p>}
      <ul>
        {Object.entries(properties).map(([field, raw]) => {
          const child = resolve(document, obj(raw));
          const desc = str(obj(raw).description) ?? str(child.schema.description);
          const nested =
            child.schema.properties ||
            arr(child.schema.anyOf).some((s) => resolve(document, obj(s)).schema.properties) ||
            (arr(child.schema.type).includes("array") || child.schema.type === "array"
              ? resolve(document, obj(child.schema.items)).schema.properties
              : false);
          return (
            <li>
              <code>{field}</code> <span class="type">{typeLabel(document, obj(raw))}</span>
              {required.has(field) ? <span class="req"> required</span> : <span class="muted"> optional</span>}
              {desc && (
                <span class="desc">
                  {" — "}
                  <Prose text={desc} />
                </span>
              )}
              {nested ? <SchemaView document={document} schema={obj(raw)} expanded={expanded} nested /> : null}
            </li>
          );
        })}
      </ul>
    </div>
  );
}

/** A JSON example built from the schema's examples, or `<field>` placeholders. */
function exampleOf(document: Json, raw: Json, field = "value", depth = 0): unknown {
  const { schema } = resolve(document, raw);
  if (schema.example !== undefined) return schema.example;
  if (depth > 4) return null;
  if (schema.properties) {
    const required = new Set(arr(schema.required).map(String));
    return Object.fromEntries(
      Object.entries(obj(schema.properties))
        .filter(([k]) => required.has(k))
        .map(([k, v]) => [k, exampleOf(document, obj(v), k, depth + 1)]),
    );
  }
  if (schema.enum) return arr(schema.enum)[0];
  const type = arr(schema.type)[0] ?? schema.type;
  if (type === "boolean") return true;
  if (type === "integer" || type === "number") return 1;
  if (type === "array") return [exampleOf(document, obj(schema.items), field, depth + 1)];
  return `<${field}>`;
}

/** A curl command for the operation, using $LIFEBOAT_URL and $TOKEN. */
function curlExample(document: Json, o: Operation): string {
  const lines: string[] = [];
  const params = arr(o.op.parameters).map(obj);
  let path = o.path;
  for (const p of params.filter((p) => p.in === "path")) {
    const example = obj(p.schema).example ?? p.example ?? `<${String(p.name)}>`;
    path = path.replace(`{${String(p.name)}}`, encodeURIComponent(String(example)));
  }
  const query = params
    .filter((p) => p.in === "query" && p.required)
    .map((p) => `${String(p.name)}=${encodeURIComponent(String(obj(p.schema).example ?? `<${String(p.name)}>`))}`);
  const url = `"$LIFEBOAT_URL${path}${query.length ? `?${query.join("&")}` : ""}"`;
  const responses = obj(o.op.responses);
  const downloads = Object.values(responses).some((r) =>
    Object.keys(obj(obj(r).content)).some((t) => !t.includes("json") && !t.startsWith("text/")),
  );
  lines.push(`curl -sS${downloads ? " -OJ" : ""}${o.method === "get" ? "" : ` -X ${o.method.toUpperCase()}`} ${url}`);
  const security = arr(o.op.security).map(obj);
  if (security.some((s) => "bearerAuth" in s)) lines.push(`-H "Authorization: Bearer $TOKEN"`);
  else if (security.some((s) => "cronSecret" in s)) lines.push(`-H "Authorization: Bearer $CRON_SECRET"`);
  const content = obj(obj(o.op.requestBody).content);
  if (content["application/json"]) {
    const example = exampleOf(document, obj(obj(content["application/json"]).schema));
    lines.push(`-H "Content-Type: application/json"`, `-d '${JSON.stringify(example)}'`);
  } else if (content["multipart/form-data"]) {
    const { schema } = resolve(document, obj(obj(content["multipart/form-data"]).schema));
    for (const [field, raw] of Object.entries(obj(schema.properties))) {
      lines.push(obj(raw).format === "binary" ? `-F "${field}=@backup.sql"` : `-F "${field}=<${field}>"`);
    }
  }
  return lines.join(" \\\n  ");
}

function securityLabel(op: Json): string {
  const security = arr(op.security).map(obj);
  if (!security.length) return "No sign-in needed";
  const names = security.flatMap((s) => Object.keys(s));
  if (names.includes("cronSecret")) return "Bearer CRON_SECRET, or an admin (token or session)";
  if (names.includes("bearerAuth")) return op["x-role"] === "any" ? "Signed in (token or session)" : "Admin (Bearer token or session cookie)";
  return names.join(" or ");
}

function Endpoint(props: { document: Json; o: Operation }) {
  const { document, o } = props;
  const params = arr(o.op.parameters).map(obj);
  const body = obj(o.op.requestBody);
  const bodyContent = Object.entries(obj(body.content));
  const expanded = new Set<string>();
  return (
    <section class="card endpoint" id={anchorOf(o)} aria-labelledby={`${anchorOf(o)}-h`}>
      <h2 id={`${anchorOf(o)}-h`}>
        <span class={`method ${o.method}`}>{o.method.toUpperCase()}</span> <code>{o.path}</code>
      </h2>
      {str(o.op.summary) && (
        <p class="summary">
          <Prose text={str(o.op.summary)!} />
        </p>
      )}
      {str(o.op.description) && (
        <p>
          <Prose text={str(o.op.description)!} />
        </p>
      )}
      <p class="muted">Access: {securityLabel(o.op)}</p>
      {params.length > 0 && (
        <>
          <h3>Parameters</h3>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">In</th>
                  <th scope="col">Type</th>
                  <th scope="col">Description</th>
                </tr>
              </thead>
              <tbody>
                {params.map((p) => (
                  <tr>
                    <td>
                      <code>{String(p.name)}</code>
                      {p.required ? <span class="req"> required</span> : null}
                    </td>
                    <td>{String(p.in)}</td>
                    <td>{typeLabel(document, obj(p.schema))}</td>
                    <td>{str(p.description) ?? str(obj(p.schema).description) ?? ""}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
      {bodyContent.length > 0 && (
        <>
          <h3>Request body</h3>
          {bodyContent.map(([type, media]) => (
            <div>
              <p>
                <code>{type}</code>
                {body.required ? <span class="req"> required</span> : null}
              </p>
              <SchemaView document={document} schema={obj(obj(media).schema)} expanded={expanded} />
            </div>
          ))}
        </>
      )}
      <h3>Responses</h3>
      <dl class="responses">
        {Object.entries(obj(o.op.responses)).map(([status, raw]) => {
          const r = obj(raw);
          const content = Object.entries(obj(r.content));
          const isError = Number(status) >= 400;
          return (
            <>
              <dt>
                <span class={`badge ${isError ? "failed" : "ok"}`}>{status}</span> {str(r.description)}
              </dt>
              <dd>
                {content.map(([type, media]) =>
                  isError && resolve(document, obj(obj(media).schema)).name === "Error" ? (
                    <p class="muted">
                      <code>{type}</code>: the <a href="#errors">error body</a>
                    </p>
                  ) : (
                    <div>
                      <p>
                        <code>{type}</code>
                      </p>
                      {Object.keys(obj(obj(media).schema)).length ? (
                        <SchemaView document={document} schema={obj(obj(media).schema)} expanded={expanded} />
                      ) : null}
                    </div>
                  ),
                )}
                {Object.keys(obj(r.headers)).length > 0 && (
                  <p class="muted">
                    Headers:{" "}
                    {Object.entries(obj(r.headers)).map(([h, v], i) => (
                      <>
                        {i > 0 ? ", " : ""}
                        <code>{h}</code>
                        {str(obj(v).description) ? ` (${str(obj(v).description)})` : ""}
                      </>
                    ))}
                  </p>
                )}
              </dd>
            </>
          );
        })}
      </dl>
      <h3>Example</h3>
      <pre class="curl">
        <code>{curlExample(document, o)}</code>
      </pre>
    </section>
  );
}

/** The API reference page at /api/docs. */
export function ApiDocsPage(props: ApiDocsProps) {
  const document = obj(props.document);
  const info = obj(document.info);
  const ops = operationsOf(document);
  const errorSchema = { $ref: "#/components/schemas/Error" };
  return (
    <Layout title="API" current="/api/docs" viewer={props.viewer} assetVersion={props.assetVersion}>
      <section class="card">
        <h1>{str(info.title) ?? "API"}</h1>
        <p class="muted">
          Version {str(info.version)} · OpenAPI {str(document.openapi)} ·{" "}
          <a href="/api/openapi.json">openapi.json</a>
        </p>
        {str(info.description) && (
          <p>
            <Prose text={str(info.description)!} />
          </p>
        )}
        <h2>Getting a token</h2>
        <pre class="curl">
          <code>
            {`export LIFEBOAT_URL=http://localhost:3000\nexport TOKEN=$(curl -sS -X POST "$LIFEBOAT_URL/api/auth/login" \\\n  -H "Content-Type: application/json" \\\n  -d '{"username":"admin","password":"<password>"}' | jq -r .token)`}
          </code>
        </pre>
        <h2 id="errors">Errors</h2>
        <p>Every error has the same body, with the status telling the kind (400, 401, 403, 404, 409, 413, 422, 429):</p>
        <SchemaView document={document} schema={errorSchema} />
        <h2>Routes</h2>
        <ul class="toc">
          {ops.map((o) => (
            <li>
              <a href={`#${anchorOf(o)}`}>
                <span class={`method ${o.method}`}>{o.method.toUpperCase()}</span> <code>{o.path}</code>
              </a>{" "}
              <span class="muted">{str(o.op.summary)}</span>
            </li>
          ))}
        </ul>
      </section>
      {ops.map((o) => (
        <Endpoint document={document} o={o} />
      ))}
    </Layout>
  );
}
