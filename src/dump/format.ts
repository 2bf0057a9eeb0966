/**
 * The Lifeboat dump format's framing, shared by the writer and the reader: a
 * dump starts with the magic line and a `-- format: N` line, and a complete
 * dump ends with the end line (a file without it was cut off).
 */

/** The first line of every Lifeboat dump. */
export const DUMP_MAGIC = "-- Lifeboat backup";
/** The last line of every complete Lifeboat dump. */
export const DUMP_END = "-- end of Lifeboat backup";
/** The format this version writes, and the newest it reads. */
export const DUMP_FORMAT_VERSION = 1;
