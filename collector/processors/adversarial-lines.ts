/**
 * Repeating units that make backtracking regexes and hand-written scanners
 * choke: long runs of one character class (every position a candidate start),
 * separators that almost form a structure (`a.a.a.` for host names, `a://` for
 * URLs, `\"` for quoted strings, `a@` for e-mail addresses), and prefixes a
 * pattern starts on but can never finish. Tests repeat one unit n times and
 * check the time stays linear in n (shared/test-support/boundary-contract.ts
 * expectLinearTime). Test support only.
 */
export const ADVERSARIAL_UNITS: readonly string[] = [
  'a',
  '1',
  ' ',
  'a.',
  '1.',
  'a-',
  '1-',
  'a:',
  '1:',
  'ff:',
  '/',
  'a/',
  '\\',
  '\\"',
  "\\'",
  '"a',
  'a@',
  'a.a@',
  'a://',
  'a://a:',
  'http://a.',
  'Bearer ',
  '1 ',
  'C:\\',
  'Jan ',
  '2024-',
  '10/Oct/',
  'a$.',
  '%',
  '=',
];

/** `unit` repeated `count` times: one adversarial line. */
export function adversarialLine(unit: string, count: number): string {
  return unit.repeat(count);
}

/**
 * Runs a global regex over the whole line the way a non-matching line is
 * searched: every start position is tried (an empty match advances by one).
 * `test` rather than `exec`: no match arrays, so the garbage collector stays
 * out of the timing.
 */
export function scanAll(regex: RegExp, line: string): number {
  const global = regex.global ? regex : new RegExp(regex.source, `${regex.flags}g`);
  global.lastIndex = 0;
  let matches = 0;
  let from = 0;
  while (global.test(line)) {
    matches++;
    if (global.lastIndex === from) global.lastIndex++;
    from = global.lastIndex;
  }
  return matches;
}

/**
 * The unit on which `run` spends the most time per character at a moderate
 * size: a super-linear scan shows up there first. The linear-time check then
 * runs on that unit only, which keeps a whole pattern table within seconds.
 */
export function slowestUnit(run: (line: string) => unknown, units: readonly string[] = ADVERSARIAL_UNITS, chars = 16_384): string {
  let slowest = units[0] ?? 'a';
  let slowestCost = -1;
  for (const unit of units) {
    const line = adversarialLine(unit, Math.ceil(chars / unit.length));
    run(line); // tier-up and flattening, outside the measurement
    const started = performance.now();
    run(line);
    const cost = (performance.now() - started) / line.length;
    if (cost > slowestCost) {
      slowestCost = cost;
      slowest = unit;
    }
  }
  return slowest;
}

/**
 * Lines of up to 16 K characters grown ×8 (to 128 K, about half the default
 * max_line_bytes): a quadratic scan shows ×64 there, a linear one ×8. Bigger
 * lines would measure caches and the garbage collector rather than the
 * regex, and best of five keeps a busy machine's hiccups from reading as growth.
 */
export const LINEAR_CHECK = (unit: string) => ({ growth: 8, maxRatio: 20, minBaseMs: 4, repetitions: 5, maxBaseSize: Math.ceil(16_384 / unit.length) });
