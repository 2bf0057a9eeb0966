/**
 * R*Tree rows out of sqlite3 .dump's copy of the tree. The CLI writes an
 * R*Tree as its shadow tables: `r_rowid` (rowid → leaf node, auxiliary
 * columns) and `r_node` (the tree's pages as blobs). Lifeboat never writes
 * those; it reads the coordinates out of the leaf pages instead and restores
 * each row through the table itself (`INSERT INTO "r"("id",…) VALUES …`),
 * so the module builds its own tree.
 *
 * Page layout (SQLite's rtree.c): 2 bytes of tree depth (meaningful in the
 * root, node 1), 2 bytes of cell count, then cells of an 8-byte rowid and
 * two 4-byte coordinates per dimension, all big-endian; coordinates are
 * 32-bit floats, or 32-bit integers for rtree_i32. In an interior page a
 * cell's rowid is a child page number.
 */
import { realLiteral } from "./real-literal.ts";
import { quoteIdent as quoteIdentifier } from "./writer.ts";
import type { VirtualTableSpec } from "./virtual-tables.ts";

/** Rows per INSERT the translation writes. */
const ROWS_PER_INSERT = 200;

export class RtreeFromDump {
  private readonly nodes = new Map<bigint, Uint8Array>();
  /** rowid → the literals of its auxiliary columns, as the dump wrote them. */
  private readonly aux = new Map<bigint, string[]>();
  private bytes = 0;

  constructor(
    readonly name: string,
    private readonly spec: VirtualTableSpec,
    private readonly maxBytes: number,
  ) {}

  /** Bytes held until the tree can be read (the caller refuses what is too large). */
  get held(): number {
    return this.bytes;
  }

  addNode(nodeno: bigint, data: Uint8Array): void {
    this.nodes.set(nodeno, data);
    this.bytes += data.byteLength + 16;
    this.check();
  }

  addRowid(rowid: bigint, auxLiterals: string[]): void {
    this.aux.set(rowid, auxLiterals);
    for (const a of auxLiterals) this.bytes += a.length + 8;
    this.bytes += 16;
    this.check();
  }

  private check(): void {
    if (this.bytes > this.maxBytes) {
      throw new Error(`the R*Tree ${this.name} in this sqlite3 .dump is larger than ${this.maxBytes} bytes, too large to translate`);
    }
  }

  /** The INSERT statements that restore every row; throws (a reason) when the pages do not form a tree. */
  statements(): string[] {
    const columns = this.spec.columns;
    const auxCount = this.spec.auxiliary ?? 0;
    const coords = columns.length - 1 - auxCount;
    if (coords < 2 || coords % 2 !== 0) throw new Error(`R*Tree ${this.name} has ${coords} coordinate columns`);
    const cellBytes = 8 + 4 * coords;
    const int32 = this.spec.module === "rtree_i32";
    const root = this.nodes.get(1n);
    if (!root) {
      if (this.aux.size === 0) return [];
      throw new Error(`R*Tree ${this.name}: the dump has rows but no root page`);
    }
    const depth = readU16(root, 0);
    const rows: string[] = [];
    const seen = new Set<bigint>();
    const walk = (nodeno: bigint, height: number) => {
      if (seen.has(nodeno)) throw new Error(`R*Tree ${this.name}: page ${nodeno} is reached twice`);
      seen.add(nodeno);
      const node = this.nodes.get(nodeno);
      if (!node) throw new Error(`R*Tree ${this.name}: page ${nodeno} is missing from the dump`);
      const count = readU16(node, 2);
      if (4 + count * cellBytes > node.byteLength) throw new Error(`R*Tree ${this.name}: page ${nodeno} is damaged`);
      const view = new DataView(node.buffer, node.byteOffset, node.byteLength);
      for (let i = 0; i < count; i++) {
        const at = 4 + i * cellBytes;
        const id = view.getBigInt64(at, false);
        if (height > 0) {
          walk(id, height - 1);
          continue;
        }
        const values = [id.toString()];
        for (let c = 0; c < coords; c++) {
          values.push(int32 ? String(view.getInt32(at + 8 + 4 * c, false)) : realLiteral(view.getFloat32(at + 8 + 4 * c, false)));
        }
        const aux = this.aux.get(id) ?? [];
        for (let a = 0; a < auxCount; a++) values.push(aux[a] ?? "NULL");
        rows.push(`(${values.join(",")})`);
      }
    };
    walk(1n, depth);
    if (rows.length !== this.aux.size) {
      throw new Error(`R*Tree ${this.name}: the tree holds ${rows.length} rows but its rowid table ${this.aux.size}`);
    }
    const head = `INSERT INTO ${quoteIdentifier(this.name)}(${columns.map(quoteIdentifier).join(",")}) VALUES`;
    const out: string[] = [];
    for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) out.push(head + rows.slice(i, i + ROWS_PER_INSERT).join(","));
    return out;
  }
}

function readU16(b: Uint8Array, at: number): number {
  return ((b[at] ?? 0) << 8) | (b[at + 1] ?? 0);
}
