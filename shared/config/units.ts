/**
 * Durations ("250ms", "5s", "1m30s") and byte sizes ("64KiB", "1MB") as users
 * write them in Vector and Fluent Bit configs. Plain numbers are milliseconds
 * and bytes.
 */
const DURATION_UNITS_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const BYTE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;

/** Returns milliseconds, or undefined when the text is not a duration. */
export function parseDuration(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isFinite(text) && text >= 0 ? text : undefined;
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  let total = 0;
  let consumed = 0;
  DURATION_PART.lastIndex = 0;
  for (let match = DURATION_PART.exec(trimmed); match; match = DURATION_PART.exec(trimmed)) {
    const [whole, amount, unit] = match;
    total += Number(amount) * (DURATION_UNITS_MS[unit as string] ?? Number.NaN);
    consumed += whole.length;
  }
  if (consumed === 0 || consumed !== trimmed.length || !Number.isFinite(total)) return undefined;
  return Math.round(total);
}

/** Returns bytes, or undefined when the text is not a size. */
export function parseByteSize(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isInteger(text) && text >= 0 ? text : undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  if (!match) return undefined;
  const unit = (match[2] ?? '').toLowerCase() || 'b';
  const multiplier = BYTE_UNITS[unit];
  if (multiplier === undefined) return undefined;
  return Math.round(Number(match[1]) * multiplier);
}
