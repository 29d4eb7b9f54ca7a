import { DIGIT_0, DOT, LOWER_E, LOWER_I, LOWER_N, MINUS, PLUS, UPPER_E, isDigit, matchesWord } from './characters.js';

/** Exact powers of ten: a ≤ 2^53 integer times or over one of these is correctly rounded (Clinger's fast path). */
const POWERS_OF_TEN = Array.from({ length: 23 }, (_, exponent) => 10 ** exponent);
const MAX_EXACT_MANTISSA = 2 ** 53;

/**
 * `text[start, end)` as Go's strconv.ParseFloat reads it, minus hex and
 * underscores (Prometheus refuses those too): an optionally signed decimal with
 * optional fraction and exponent, or `Inf`/`Infinity` (optionally signed) or
 * `NaN`, case-insensitive. `undefined` when it is not a number.
 */
export function parseGoFloat(text: string, start: number, end: number): number | undefined {
  if (start >= end) return undefined;
  let index = start;
  let code = text.charCodeAt(index);
  let negative = false;
  if (code === PLUS || code === MINUS) {
    negative = code === MINUS;
    if (++index === end) return undefined;
    code = text.charCodeAt(index);
  }
  if ((code | 0x20) === LOWER_I) {
    if (matchesWord(text, index, end, 'inf') || matchesWord(text, index, end, 'infinity')) return negative ? -Infinity : Infinity;
    return undefined;
  }
  if ((code | 0x20) === LOWER_N) {
    // Go takes a sign before Inf but not before NaN.
    return index === start && matchesWord(text, index, end, 'nan') ? NaN : undefined;
  }
  let mantissa = 0;
  let exponent = 0;
  let exact = true;
  let digits = false;
  let dot = false;
  for (; index < end; index++) {
    code = text.charCodeAt(index);
    if (isDigit(code)) {
      digits = true;
      const next = mantissa * 10 + (code - DIGIT_0);
      if (next <= MAX_EXACT_MANTISSA) {
        mantissa = next;
        if (dot) exponent--;
      } else {
        exact = false;
      }
    } else if (code === DOT && !dot) {
      dot = true;
    } else {
      break;
    }
  }
  if (!digits) return undefined;
  if (index < end) {
    if (code !== LOWER_E && code !== UPPER_E) return undefined;
    if (++index === end) return undefined;
    code = text.charCodeAt(index);
    let exponentNegative = false;
    if (code === PLUS || code === MINUS) {
      exponentNegative = code === MINUS;
      if (++index === end) return undefined;
    }
    let written = 0;
    for (; index < end; index++) {
      code = text.charCodeAt(index);
      if (!isDigit(code)) return undefined;
      // Past 1e6 the result is 0 or Infinity anyway; stop growing so the sum stays an integer.
      if (written < 1e6) written = written * 10 + (code - DIGIT_0);
    }
    exponent += exponentNegative ? -written : written;
  }
  if (exact) {
    const magnitude = exponent < 0 ? POWERS_OF_TEN[-exponent] : POWERS_OF_TEN[exponent];
    if (magnitude !== undefined) {
      const value = exponent < 0 ? mantissa / magnitude : mantissa * magnitude;
      return negative ? -value : value;
    }
  }
  // The syntax checked above is a subset of what Number() reads. Go refuses a finite literal too large for a float64.
  const value = Number(text.slice(start, end));
  return Number.isFinite(value) ? value : undefined;
}
