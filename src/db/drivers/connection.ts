import type { SqlArg } from "../../dump/writer.ts";

/** The part of a migration the import needs (plain data: it crosses to the worker). */
export interface MigrationSpec {
  version: number;
  name: string;
  up: readonly string[];
}

/** A connection inside a write transaction that the caller owns (BEGIN/COMMIT/ROLLBACK are the caller's). */
export interface ApplyConnection {
  exec(sql: string): void | Promise<void>;
  query(sql: string, args?: readonly SqlArg[]): unknown[][] | Promise<unknown[][]>;
  /** Lets go of statements kept so far before heavy work (see `nativeQuerier`). */
  settle?(): void | Promise<void>;
}
