import path from "node:path";
import Database from "libsql";
import { describe, expect, it } from "vitest";
import { realLiteral } from "../../src/dump/writer.ts";
import { lifeboatSql } from "./support/corpus.ts";
import { backupPath, makeEngine } from "./support/engine.ts";
import { sqlite3 } from "./support/sqlite3.ts";
import { tempDir } from "../support/temp.ts";

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);
const bitsOf = (x: number) => {
  f64[0] = x;
  return u64[0]!.toString(16).padStart(16, "0");
};

/**
 * 45,000 doubles: random bit patterns over the whole range, random
 * subnormals, small values like the one Debian 12's sqlite3 misread, and the
 * edges (DBL_MAX, the smallest subnormal, -0.0, ±Infinity).
 */
function doubles(): number[] {
  let x = 0x9e3779b97f4a7c15n;
  const next = () => {
    x ^= (x << 13n) & 0xffffffffffffffffn;
    x ^= x >> 7n;
    x ^= (x << 17n) & 0xffffffffffffffffn;
    return x;
  };
  const out = [
    8.02781717354724e-5, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, -Number.MIN_VALUE, 2.2250738585072014e-308,
    2.225073858507201e-308, 1e-290, 9.99999999999999e-291, 0.1, 1 / 3, 1e16, 1e300, -0, Infinity, -Infinity, 12.25, 2 ** 53 + 2,
  ];
  while (out.length < 45_000) {
    const kind = out.length % 3;
    if (kind === 0) u64[0] = next();
    else if (kind === 1) u64[0] = next() & 0x800fffffffffffffn; // subnormal (or ±0)
    else f64[0] = Number(next() >> 11n) / 2 ** 53 / 1e4; // [0, 1e-4), like 8.02781717354724e-05
    if (!Number.isNaN(f64[0]!)) out.push(f64[0]!);
  }
  return out;
}

function readReals(file: string): Map<number, string> {
  const db = new Database(file, { readonly: true });
  try {
    db.defaultSafeIntegers(false);
    const rows = db.prepare("SELECT id, v, typeof(v) FROM reals").raw(true).all() as [number, number, string][];
    return new Map(rows.map(([id, v, type]) => [id, `${type}:${type === "real" ? bitsOf(v) : String(v)}`]));
  } finally {
    db.close();
  }
}

// 45,000 rows through a backup, the sqlite3 CLI and an import: minutes on a loaded two-core machine.
describe("REALs every sqlite3 reloads bit for bit", { timeout: 300_000 }, () => {
  it("writes 45,000 random doubles (subnormals included) so that sqlite3 and Lifeboat both restore every bit", async () => {
    const values = doubles();
    const t = await makeEngine({ corpus: false, statementBytes: 8192 });
    const db = new Database(t.dbPath);
    db.exec(lifeboatSql());
    // No column type: REAL affinity would store -0.0 as the integer 0.
    db.exec("CREATE TABLE reals(id INTEGER PRIMARY KEY, v)");
    const ins = db.prepare("INSERT INTO reals VALUES (?, ?)");
    db.exec("BEGIN");
    values.forEach((v, i) => ins.run([i, v]));
    db.exec("COMMIT");
    db.close();
    const expected = new Map(values.map((v, i) => [i, `real:${bitsOf(v)}`]));
    expect(readReals(t.dbPath)).toEqual(expected);

    const backup = await t.engine.createBackup({ trigger: "manual", actor: "ann" });
    const viaCli = path.join(await tempDir(), "cli.db");
    const r = await sqlite3(viaCli, [], backupPath(t, backup.name));
    expect(r.stderr).toBe("");
    const cli = readReals(viaCli);
    const wrong = [...expected].filter(([id, bits]) => cli.get(id) !== bits).slice(0, 3);
    expect(wrong.map(([id, bits]) => `${values[id]} ${bits} → ${cli.get(id)} (written as ${realLiteral(values[id]!)})`)).toEqual([]);

    const wipe = new Database(t.dbPath);
    wipe.exec("UPDATE reals SET v = 0");
    wipe.close();
    await t.engine.importBackup(backup.name, { actor: "ann" });
    expect(readReals(t.dbPath)).toEqual(expected);
  });

  it("names the sqlite3 it checks against", async () => {
    // The CI image's sqlite3 is Debian 12's 3.40, the one that misread shortest forms.
    const r = await sqlite3(":memory:", ["SELECT sqlite_version()"]);
    expect(r.stdout.trim()).toMatch(/^3\.\d+\.\d+$/);
  });

  it("spells tiny values as an exact product and the rest with 17 significant digits", () => {
    expect(realLiteral(8.02781717354724e-5)).toBe("0.000080278171735472407");
    expect(realLiteral(12.25)).toBe("12.25");
    expect(realLiteral(1e21)).toBe("1.0e+21");
    expect(realLiteral(-1 / 3)).toBe("-0.33333333333333331");
    expect(realLiteral(1e16)).toBe("10000000000000000.0");
    expect(realLiteral(-0)).toBe("-0.0");
    expect(realLiteral(Infinity)).toBe("1e999");
    expect(realLiteral(Number.MIN_VALUE)).toBe(`(1*${(2 ** -300).toPrecision(17)}*${(2 ** -300).toPrecision(17)}*${(2 ** -300).toPrecision(17)}*${(2 ** -174).toPrecision(17)})`);
  });
});
