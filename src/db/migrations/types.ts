/** One schema step. Files are named `NNNN-name.ts`; versions never change once released. */
export interface Migration {
  version: number;
  name: string;
  /** Statements run in order inside one write transaction. */
  up: readonly string[];
}
