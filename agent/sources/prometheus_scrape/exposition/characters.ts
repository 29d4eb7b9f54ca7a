/**
 * Character codes and classes of the Prometheus text and OpenMetrics grammars, compared as
 * numbers: the scanner reads `charCodeAt` and never allocates a one-character string.
 */

export const TAB = 0x09;
export const CARRIAGE_RETURN = 0x0d;
export const SPACE = 0x20;
export const QUOTE = 0x22;
export const HASH = 0x23;
export const PLUS = 0x2b;
export const COMMA = 0x2c;
export const MINUS = 0x2d;
export const DOT = 0x2e;
export const DIGIT_0 = 0x30;
export const DIGIT_9 = 0x39;
export const COLON = 0x3a;
export const EQUALS = 0x3d;
export const UPPER_E = 0x45;
export const BACKSLASH = 0x5c;
export const UNDERSCORE = 0x5f;
export const LOWER_E = 0x65;
export const LOWER_I = 0x69;
export const LOWER_N = 0x6e;
export const BRACE_OPEN = 0x7b;
export const BRACE_CLOSE = 0x7d;

export function isBlank(code: number): boolean {
  return code === SPACE || code === TAB;
}

export function isDigit(code: number): boolean {
  return code >= DIGIT_0 && code <= DIGIT_9;
}

/** `[a-zA-Z_]`; metric names also allow `:`. */
export function isLabelNameStart(code: number): boolean {
  const lower = code | 0x20;
  return (lower >= 0x61 && lower <= 0x7a) || code === UNDERSCORE;
}

export function isLabelNameChar(code: number): boolean {
  return isLabelNameStart(code) || isDigit(code);
}

export function isMetricNameStart(code: number): boolean {
  return isLabelNameStart(code) || code === COLON;
}

export function isMetricNameChar(code: number): boolean {
  return isLabelNameStart(code) || isDigit(code) || code === COLON;
}

/** Case-insensitive match of `word` (lower case) at `text[start, end)` exactly. */
export function matchesWord(text: string, start: number, end: number, word: string): boolean {
  if (end - start !== word.length) return false;
  for (let index = 0; index < word.length; index++) {
    if ((text.charCodeAt(start + index) | 0x20) !== word.charCodeAt(index)) return false;
  }
  return true;
}
