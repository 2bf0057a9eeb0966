/** `binary`: KiB, MiB… (1024, what the command line prints); `decimal`: kB, MB… (1000, what the page shows, like file managers). */
export type ByteUnits = "binary" | "decimal";

const UNITS: Record<ByteUnits, { base: number; names: readonly string[]; carry: number }> = {
  binary: { base: 1024, names: ["KiB", "MiB", "GiB", "TiB"], carry: 1024 },
  // 999.95 kB would print as "1000.0 kB": carry it to the next unit.
  decimal: { base: 1000, names: ["kB", "MB", "GB", "TB"], carry: 999.95 },
};

/** Bytes for people, with one decimal: `512 B`, `1.5 KiB` / `1.5 kB`. */
export function formatBytes(n: number, units: ByteUnits): string {
  const { base, names, carry } = UNITS[units];
  if (n < base) return `${n} B`;
  let v = n;
  let i = -1;
  do {
    v /= base;
    i++;
  } while (v >= carry && i < names.length - 1);
  return `${v.toFixed(1)} ${names[i]}`;
}
