/**
 * Civil-calendar and time-zone arithmetic for timestamp parsing, on plain integers (days from the civil
 * calendar, H. Hinnant's algorithm), never through `Date.UTC`, which maps years 0–99 to 1900–1999 and cannot
 * carry sub-millisecond digits. Zones are resolved with `Intl.DateTimeFormat` (no dependency).
 */

/** Largest epoch second whose UTC year still fits RFC 3339's four digits (9999-12-31T23:59:59Z). */
export const MAX_EPOCH_SECONDS = 253402300799;
export const DAY = 86400;

/**
 * Local wall-clock seconds in `zone` → UTC epoch seconds. Candidate offsets
 * are those in force a day before and after (zones do not change twice in two
 * days); a candidate is right when the zone really has that offset at the
 * resulting instant. Overlap: the earlier instant. Gap: the offset from before
 * the transition, which moves the time forward by the gap length.
 */
export function localToUtc(local: number, zone: string): number | undefined {
  const fixed = parseFixedOffset(zone);
  if (fixed !== undefined) return local - fixed;
  const before = zoneOffset(zone, local - DAY);
  const after = zoneOffset(zone, local + DAY);
  if (before === undefined || after === undefined) return undefined;
  const valid = [before, after].filter((offset) => zoneOffset(zone, local - offset) === offset).map((offset) => local - offset);
  if (valid.length > 0) return Math.min(...valid);
  return local - before;
}

const formatters = new Map<string, Intl.DateTimeFormat | undefined>();

export function zoneFormatter(zone: string): Intl.DateTimeFormat | undefined {
  if (formatters.has(zone)) return formatters.get(zone);
  let formatter: Intl.DateTimeFormat | undefined;
  try {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    // RangeError for an unknown zone: reported as "cannot parse", never thrown.
    formatter = undefined;
  }
  formatters.set(zone, formatter);
  return formatter;
}

/** Offset east of UTC, in seconds, that `zone` has at the UTC instant `utcSeconds`. */
export function zoneOffset(zone: string, utcSeconds: number): number | undefined {
  const formatter = zoneFormatter(zone);
  if (formatter === undefined) return undefined;
  const parts: Partial<Record<Intl.DateTimeFormatPartTypes, number>> = {};
  for (const part of formatter.formatToParts(new Date(utcSeconds * 1000))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const { year, month, day, hour, minute, second } = parts;
  if (year === undefined || month === undefined || day === undefined || hour === undefined || minute === undefined || second === undefined) {
    return undefined;
  }
  const wall = daysFromCivil(year, month, day) * DAY + hour * 3600 + minute * 60 + second;
  return wall - utcSeconds;
}

/** `UTC`, `Z`, `+02:00`, `-0700`, `+05` → seconds east of UTC. */
export function parseFixedOffset(zone: string): number | undefined {
  if (/^(?:UTC|GMT|Z)$/i.test(zone)) return 0;
  const m = /^(?:UTC|GMT)?([+-])(\d{2}):?(\d{2})?$/i.exec(zone);
  if (m === null) return undefined;
  const hours = int(m[2]);
  const minutes = int(m[3]);
  if (hours > 18 || minutes > 59) return undefined;
  return (m[1] === '-' ? -1 : 1) * (hours * 3600 + minutes * 60);
}

/** An offset written in the text; NaN when out of range, so `resolve` rejects the time instead of falling back to the configured zone. */
export function parseOffset(text: string): number {
  return parseFixedOffset(text === 'UT' || text === 'ut' ? 'UTC' : text) ?? Number.NaN;
}

export function formatUtc(epochSeconds: number, fraction: string): string | undefined {
  if (!Number.isSafeInteger(epochSeconds) || epochSeconds < -62167219200 || epochSeconds > MAX_EPOCH_SECONDS) return undefined;
  const days = Math.floor(epochSeconds / DAY);
  const secondOfDay = epochSeconds - days * DAY;
  const { year, month, day } = civilFromDays(days);
  const frac = fraction.length >= 3 ? fraction : fraction.padEnd(3, '0');
  return (
    `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T` +
    `${pad(Math.floor(secondOfDay / 3600), 2)}:${pad(Math.floor(secondOfDay / 60) % 60, 2)}:${pad(secondOfDay % 60, 2)}.${frac}Z`
  );
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms"). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** POSIX `strptime` `%y`: 69–99 → 1969–1999, 00–68 → 2000–2068. */
export function pivotYear(yy: number): number {
  return yy >= 69 ? 1900 + yy : 2000 + yy;
}

export function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

export function int(text: string | undefined): number {
  return text === undefined || text === '' ? 0 : Number.parseInt(text, 10);
}
