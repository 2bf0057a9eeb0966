// A user's script against Lifeboat's API through a client generated from
// /api/openapi.json: `api.ts` is written next to this file by openapi-typescript
// (test/http/openapi-tools.test.ts), which then type-checks this file with tsc
// and runs it against a live server. Every call is typed by the document alone.
import createClient from "openapi-fetch";
import type { paths } from "./api.ts";

const baseUrl = process.env.LIFEBOAT_URL!;
const check = (ok: boolean, what: string) => {
  if (!ok) throw new Error(`flow: ${what}`);
};

const client = createClient<paths>({ baseUrl });

/** Retries while Lifeboat answers 409 (a change backup after the user edits may be running). */
async function whenIdle<R extends { response: Response }>(call: () => Promise<R>): Promise<R> {
  for (let tries = 0; ; tries++) {
    const result = await call();
    if (result.response.status !== 409 || tries >= 120) return result;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

// Public: the document itself and the login.
const doc = await client.GET("/api/openapi.json");
check(doc.response.status === 200, "openapi.json");
const login = await client.POST("/api/auth/login", {
  body: { username: process.env.ADMIN_USERNAME!, password: process.env.ADMIN_PASSWORD! },
});
check(login.data !== undefined, `login: ${JSON.stringify(login.error)}`);
client.use({
  onRequest({ request }) {
    request.headers.set("Authorization", `Bearer ${login.data!.token}`);
    return request;
  },
});

const me = await client.GET("/api/auth/me");
check(me.data?.role === "admin", "me");

// A backup of the state before the user changes below; restored at the end.
const baseline = await whenIdle(() => client.POST("/api/backups"));
check(baseline.response.status === 201 && baseline.data !== undefined, `baseline backup: ${JSON.stringify(baseline.error)}`);

// Users: ids are integers in the path as in the bodies.
const created = await client.POST("/api/users", { body: { username: "ann", password: "ann's long password", role: "user" } });
check(created.response.status === 201 && created.data !== undefined, `create user: ${JSON.stringify(created.error)}`);
const id: number = created.data!.id;
type UserPath = paths["/api/users/{id}"]["get"]["parameters"]["path"];
// @ts-expect-error the document says {id} is an integer
const textId: UserPath = { id: "2" };
void textId;
const one = await client.GET("/api/users/{id}", { params: { path: { id } } });
check(one.data?.username === "ann", "get user");
const promoted = await client.PATCH("/api/users/{id}", { params: { path: { id } }, body: { role: "admin" } });
check(promoted.data?.role === "admin", "promote");
const users = await client.GET("/api/users");
check(users.data?.users.some((u) => u.username === "ann") === true, "list users");
const audit = await client.GET("/api/audit", { params: { query: { limit: 10 } } });
check((audit.data?.entries.length ?? 0) >= 2, "audit");

// Backups: create, list, status, download, pin, upload (a Blob), import, delete.
const backup = await whenIdle(() => client.POST("/api/backups"));
check(backup.response.status === 201 && backup.data !== undefined, `backup: ${JSON.stringify(backup.error)}`);
const name = backup.data!.name;
const listed = await client.GET("/api/backups");
check(listed.data?.some((b) => b.name === name) === true, "list backups");
const status = await client.GET("/api/backups/status");
check(status.data !== undefined && "running" in status.data, "status");
const download = await client.GET("/api/backups/{name}", { params: { path: { name } }, parseAs: "blob" });
check(download.data instanceof Blob && download.data.size === backup.data!.size, "download");
const dump: Blob = download.data!;
const pinned = await client.POST("/api/backups/{name}/pin", { params: { path: { name } } });
check(pinned.data?.pinned === true, "pin");
const refused = await client.DELETE("/api/backups/{name}", { params: { path: { name } } });
check(refused.response.status === 409 && refused.error?.error.code !== undefined, "a pinned backup is not deleted");
await client.DELETE("/api/backups/{name}/pin", { params: { path: { name } } });

// The upload's `file` is a Blob in the generated types; multipart needs a FormData serializer.
type UploadBody = NonNullable<paths["/api/backups/upload"]["post"]["requestBody"]>["content"]["multipart/form-data"];
// @ts-expect-error the upload's file is a Blob, not a string
const notAFile: UploadBody = { file: "not a file" };
void notAFile;
const asForm = (body: UploadBody) => {
  const form = new FormData();
  form.append("file", body.file, "backup.sql");
  return form;
};
const stored = await whenIdle(() => client.POST("/api/backups/upload", { body: { file: dump }, bodySerializer: asForm }));
check(stored.response.status === 201 && stored.data?.trigger === "upload", `upload: ${JSON.stringify(stored.error)}`);
const before = baseline.data!.name;
const imported = await whenIdle(() => client.POST("/api/backups/{name}/import", { params: { path: { name: before } } }));
check(imported.data?.source === before && imported.data.safetyBackup.length > 0, `import: ${JSON.stringify(imported.error)}`);
// The baseline was taken before ann existed: the import removed her again.
const after = await client.GET("/api/users");
check(after.data?.users.every((u) => u.username !== "ann") === true, "restored users");
const removed = await client.DELETE("/api/backups/{name}", { params: { path: { name: stored.data!.name } } });
check(removed.response.status === 204, "delete");

console.log("flow ok");
