import Database from "libsql";

/** Everything a restore must reproduce, in a form where every value carries its type. */
export interface DbContent {
  userVersion: number;
  applicationId: number;
  schema: { type: string; name: string; tblName: string; sql: string | null }[];
  tables: Record<string, string[]>;
}

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);

/** A REAL as its exact bits (so 1 ulp of difference shows). */
function realBits(v: number): string {
  f64[0] = v;
  return `real:${v}:${u64[0]!.toString(16)}`;
}

export interface ReadContentOptions {
  /**
   * Include the rowid of rowid tables that have no INTEGER PRIMARY KEY
   * (Lifeboat keeps those; sqlite3 .dump renumbers them). Default true.
   */
  rowids?: boolean;
  /** Tables to leave out (e.g. sqlite_stat1 when comparing with a sqlite3 .dump restore). */
  skip?: string[];
}

/**
 * Reads a database file completely: schema text, user_version,
 * application_id and every row of every table (sqlite_sequence and
 * sqlite_stat1 included) as `typeof:hex` per value, REALs as their exact bits.
 * Text is only ever read through hex(), so invalid UTF-8 cannot upset the reader.
 */
export function readContent(file: string, options: ReadContentOptions = {}): DbContent {
  const db = new Database(file, { timeout: 5000 });
  try {
    db.defaultSafeIntegers(true);
    const q = (sql: string, args: unknown[] = []) => db.prepare(sql).raw(true).all(args) as unknown[][];
    const schema = q(
      "SELECT hex(type), hex(name), hex(tbl_name), hex(sql) FROM sqlite_schema ORDER BY type, name",
    ).map((r) => ({
      type: Buffer.from(String(r[0]), "hex").toString(),
      name: Buffer.from(String(r[1]), "hex").toString(),
      tblName: Buffer.from(String(r[2]), "hex").toString(),
      sql: r[3] === "" ? null : Buffer.from(String(r[3]), "hex").toString(),
    }));
    const tables: Record<string, string[]> = {};
    for (const t of schema.filter((s) => s.type === "table")) {
      if (options.skip?.includes(t.name) || /^sqlite_stat[234]$/.test(t.name)) continue;
      const quoted = `"${t.name.replace(/"/g, '""')}"`;
      const cols = q(`SELECT hex(name) FROM pragma_table_xinfo(?1) ORDER BY cid`, [t.name]).map((r) =>
        Buffer.from(String(r[0]), "hex").toString(),
      );
      const withoutRowid = Number(q("SELECT wr FROM pragma_table_list(?1) WHERE schema='main'", [t.name])[0]?.[0] ?? 0) === 1;
      const includeRowid = !withoutRowid && (options.rowids ?? true);
      const exprs = cols.flatMap((c) => {
        const qc = `"${c.replace(/"/g, '""')}"`;
        return [`typeof(${qc})`, `CASE WHEN typeof(${qc}) = 'real' THEN ${qc} ELSE hex(${qc}) END`];
      });
      const rows = q(`SELECT ${includeRowid ? "_rowid_ AS lb_rowid, " : ""}${exprs.join(", ")} FROM ${quoted}`).map((r) => {
        const parts: string[] = [];
        let i = 0;
        if (includeRowid) parts.push(`rowid=${String(r[i++])}`);
        for (const c of cols) {
          const type = String(r[i++]);
          const v = r[i++];
          parts.push(`${c}=${type === "real" ? realBits(v as number) : `${type}:${String(v)}`}`);
        }
        return parts.join("|");
      });
      tables[t.name] = rows.sort();
    }
    return {
      userVersion: Number(q("PRAGMA user_version")[0]![0]),
      applicationId: Number(q("PRAGMA application_id")[0]![0]),
      schema,
      tables,
    };
  } finally {
    db.close();
  }
}

const clip = (s: string) => (s.length > 160 ? `${s.slice(0, 120)}…(${s.length} chars)…${s.slice(-30)}` : s);

/**
 * The differences between two contents, short enough to read in a test
 * failure (an empty list when they are the same).
 */
export function contentDiff(actual: DbContent, expected: DbContent): string[] {
  const out: string[] = [];
  if (actual.userVersion !== expected.userVersion) out.push(`user_version ${actual.userVersion} ≠ ${expected.userVersion}`);
  if (actual.applicationId !== expected.applicationId) out.push(`application_id ${actual.applicationId} ≠ ${expected.applicationId}`);
  const key = (s: DbContent["schema"][number]) => JSON.stringify(s);
  const sa = new Set(actual.schema.map(key));
  const se = new Set(expected.schema.map(key));
  for (const s of expected.schema) if (!sa.has(key(s))) out.push(`schema missing: ${clip(key(s))}`);
  for (const s of actual.schema) if (!se.has(key(s))) out.push(`schema extra: ${clip(key(s))}`);
  for (const t of new Set([...Object.keys(actual.tables), ...Object.keys(expected.tables)])) {
    const a = actual.tables[t] ?? [];
    const e = expected.tables[t] ?? [];
    const setA = new Set(a);
    const setE = new Set(e);
    const missing = e.filter((r) => !setA.has(r));
    const extra = a.filter((r) => !setE.has(r));
    if (missing.length || extra.length || a.length !== e.length) {
      out.push(`table ${t}: ${a.length} rows vs ${e.length}`);
      for (const r of missing.slice(0, 2)) out.push(`  missing ${clip(r)}`);
      for (const r of extra.slice(0, 2)) out.push(`  extra   ${clip(r)}`);
    }
  }
  return out;
}
