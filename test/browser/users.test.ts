import fs from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { ADMIN, bootWithAdmin, loginToken } from "../support/auth.ts";
import { openBrowser, screenshot, serveLifeboat } from "../support/browser.ts";

const PW = "nora's long password";

/** Polls until the value matches: page changes arrive asynchronously (and a password hash takes ~0.4 s). */
const until = <T,>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 15_000, interval: 50 });

describe("users page in a real browser", () => {
  it("signs in, adds a user, changes the role, deletes with confirmation — without reloading the page", async () => {
    const lb = await bootWithAdmin();
    const { url } = await serveLifeboat(lb);
    const { page, errors } = await openBrowser();
    const serverErrors: string[] = [];
    page.on("response", (r) => {
      if (r.status() >= 500) serverErrors.push(`${r.status()} ${r.url()}`);
    });

    // Signed out, the page sends us to the sign-in form, which brings us back.
    await page.goto(`${url}/admin/users`);
    expect(new URL(page.url()).pathname).toBe("/login");
    await page.getByLabel("Username").fill(ADMIN.username);
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await until(() => page.locator("#login-error").textContent()).toContain("Wrong username or password.");
    await page.getByLabel("Password").fill(ADMIN.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${url}/admin/users`);
    const cookies = await page.context().cookies();
    expect(cookies.find((c) => c.name === "lifeboat_session")).toMatchObject({ httpOnly: true, sameSite: "Strict" });

    // From here on every change must happen in place: a reload would lose this marker.
    await page.evaluate(() => ((window as unknown as { marker: string }).marker = "still here"));

    // Add a user with the keyboard-usable form.
    await page.getByLabel("Username").fill("nora");
    await page.locator("#new-user-password").fill(PW);
    await page.getByLabel("Role", { exact: true }).selectOption("user");
    await page.getByRole("button", { name: "Add user" }).click();
    const row = page.locator("tr", { has: page.getByRole("rowheader", { name: "nora" }) });
    await row.waitFor();
    await until(() => page.locator("#status").textContent()).toContain("Added nora (user).");
    expect(await page.getByLabel("Username").inputValue()).toBe(""); // the form came back empty
    expect(await lb.users.listUsers()).toEqual(expect.arrayContaining([expect.objectContaining({ username: "nora", role: "user" })]));

    // The same name again (any case): the error shows next to the form.
    await page.getByLabel("Username").fill("NORA");
    await page.locator("#new-user-password").fill(PW);
    await page.getByRole("button", { name: "Add user" }).click();
    await until(() => page.locator("#add-user-error").textContent()).toContain("A user named NORA already exists");

    // Change nora's role to admin.
    await row.getByLabel("Role of nora", { exact: true }).selectOption("admin");
    await row.getByRole("button", { name: "Save role of nora" }).click();
    await until(() => page.locator("#status").textContent()).toContain("nora: role is admin.");
    expect(await row.getByLabel("Role of nora", { exact: true }).inputValue()).toBe("admin");
    expect((await lb.users.listUsers()).find((u) => u.username === "nora")?.role).toBe("admin");
    await until(() => page.locator("#audit-list").textContent()).toContain("changed the role of nora: user → admin");

    // Signing nora out everywhere asks first, then ends her sessions and tokens.
    const noraToken = await loginToken(lb, "nora", PW);
    page.once("dialog", (d) => {
      expect(d.message()).toBe("Sign nora out everywhere? Their browser sessions and API tokens stop working at once; they can sign in again.");
      void d.accept();
    });
    await row.getByRole("button", { name: "Sign out everywhere: nora" }).click();
    await until(() => page.locator("#status").textContent()).toContain("Signed nora out everywhere");
    await until(() => page.locator("#audit-list").textContent()).toContain("ended all sessions of nora");
    expect((await lb.app.request("/api/auth/me", { headers: { Authorization: `Bearer ${noraToken}` } })).status).toBe(401);

    // Delete asks first; saying no keeps the user.
    const dialogs: string[] = [];
    page.once("dialog", (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await row.getByRole("button", { name: "Delete nora" }).click();
    await until(() => dialogs.length).toBe(1);
    expect(dialogs[0]).toBe("Delete user nora? They will no longer be able to sign in. This cannot be undone.");
    expect(await row.count()).toBe(1);
    expect((await lb.users.listUsers()).map((u) => u.username)).toContain("nora");

    page.once("dialog", (d) => void d.accept());
    await row.getByRole("button", { name: "Delete nora" }).click();
    await until(() => row.count()).toBe(0);
    await until(() => page.locator("#status").textContent()).toContain("Deleted nora.");
    expect((await lb.users.listUsers()).map((u) => u.username)).toEqual(["admin"]);

    expect(await page.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe("still here");
    const shot = await screenshot(page, "users-page");
    expect((await fs.stat(shot)).size).toBeGreaterThan(10_000);

    // Sign out ends the session, on the server too: a copy of the old cookie no longer works.
    const session = (await page.context().cookies()).find((c) => c.name === "lifeboat_session")!.value;
    await page.getByRole("button", { name: "Sign out", exact: true }).click();
    await page.waitForURL(`${url}/login`);
    await page.goto(`${url}/admin/users`);
    expect(new URL(page.url()).pathname).toBe("/login");
    expect((await lb.app.request("/api/auth/me", { headers: { Cookie: `lifeboat_session=${session}` } })).status).toBe(401);

    // No CSP violation or script error along the way (the refused login and add answered 401 and 409 on purpose).
    const expected = [
      /^Failed to load resource: the server responded with a status of 40[149]/, // 404: the favicon
      /^Response Status Error Code 401 from \/login,/, // htmx reports error answers it swapped
      /^Response Status Error Code 409 from \/admin\/users,/,
    ];
    expect(errors.filter((e) => !expected.some((re) => re.test(e)))).toEqual([]);
    expect(serverErrors).toEqual([]);
  });
});
