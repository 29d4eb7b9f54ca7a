/**
 * A start-up check for user-supplied regular expressions that run on
 * untrusted lines (regex parser `pattern`, redact patterns, route
 * `body_regex`). JavaScript's engine backtracks, and two shapes make it
 * exponential on a hostile line:
 *
 * - a nested quantifier whose repeated part can also match what follows it
 *   inside the outer repetition (`(a+)+`, `(\w+\s?)*`, `(?:[a-z]+\.?)+`); a
 *   delimiter the inner part cannot match makes the split unambiguous, so
 *   `(?:[^,]*,)*` and `(?:/[^/]*)+` pass;
 * - an alternation under an unbounded quantifier whose alternatives can start
 *   with the same character (`(a|ab)*`, `(\w|\d)+`).
 *
 * The analysis works on character sets sampled over ASCII plus a few non-ASCII
 * characters: it is a guard against the known catastrophic shapes, not a proof
 * of linearity. A grok reference (`%{NAME}`) is a vetted library pattern whose
 * inside is not re-checked, but it is not one character either: it stands for
 * "one or more of the characters the pattern can consume", so `%{PATH}*` or
 * `(%{NOTSPACE} ?)+` is the nested quantifier it is (a 28-character line took
 * 38 s before), while `(?:%{WORD},)*` passes.
 */

/** Sample alphabet: every ASCII character plus representatives of wider classes. */
const SAMPLE = [...Array.from({ length: 128 }, (_, code) => String.fromCharCode(code)), 'é', 'ß', '€', '\u00a0', '\u2028', '中'];
const ALL = (1n << BigInt(SAMPLE.length)) - 1n;

type Node =
  { kind: 'set'; chars: bigint } | { kind: 'group'; alternatives: Node[][] } | { kind: 'empty' } | { kind: 'repeat'; child: Node; min: number; max: number };

function charsOf(source: string, flags: string): bigint {
  let regex: RegExp;
  try {
    regex = new RegExp(`^(?:${source})$`, flags.replace(/[gy]/g, ''));
  } catch {
    return ALL;
  }
  let bits = 0n;
  SAMPLE.forEach((ch, index) => {
    if (regex.test(ch)) bits |= 1n << BigInt(index);
  });
  return bits;
}

/** A grok reference's expanded source, or undefined when the name is unknown (then it may consume anything). */
export type ReferenceResolver = (name: string) => string | undefined;

class RegexReader {
  private i = 0;
  constructor(
    private readonly source: string,
    private readonly flags: string,
    private readonly resolveReference: ReferenceResolver = () => undefined,
  ) {}

  parse(): Node {
    const node = this.alternation();
    return node;
  }

  private alternation(): Node {
    const alternatives: Node[][] = [this.sequence()];
    while (this.source.charAt(this.i) === '|') {
      this.i++;
      alternatives.push(this.sequence());
    }
    return { kind: 'group', alternatives };
  }

  private sequence(): Node[] {
    const items: Node[] = [];
    while (this.i < this.source.length && this.source.charAt(this.i) !== '|' && this.source.charAt(this.i) !== ')') {
      const atom = this.atom();
      items.push(this.quantified(atom));
    }
    return items;
  }

  private quantified(atom: Node): Node {
    const rest = this.source.slice(this.i);
    const match = /^(?:([*+?])|\{(\d+)(,(\d*))?\})\??/.exec(rest);
    if (match === null) return atom;
    this.i += match[0].length;
    const [, symbol, low, comma, high] = match;
    if (symbol === '*') return { kind: 'repeat', child: atom, min: 0, max: Infinity };
    if (symbol === '+') return { kind: 'repeat', child: atom, min: 1, max: Infinity };
    if (symbol === '?') return { kind: 'repeat', child: atom, min: 0, max: 1 };
    const min = Number(low);
    const max = comma === undefined ? min : high === '' || high === undefined ? Infinity : Number(high);
    return { kind: 'repeat', child: atom, min, max };
  }

  private atom(): Node {
    const source = this.source;
    const ch = source.charAt(this.i);
    if (ch === '(') {
      this.i++;
      let assertion = false;
      if (source.startsWith('?:', this.i)) this.i += 2;
      else if (source.startsWith('?=', this.i) || source.startsWith('?!', this.i)) {
        this.i += 2;
        assertion = true;
      } else if (source.startsWith('?<=', this.i) || source.startsWith('?<!', this.i)) {
        this.i += 3;
        assertion = true;
      } else if (source.startsWith('?<', this.i)) {
        const end = source.indexOf('>', this.i);
        this.i = end === -1 ? source.length : end + 1;
      }
      const inner = this.alternation();
      if (source.charAt(this.i) === ')') this.i++;
      // A lookaround consumes nothing; its own content is still checked below.
      if (assertion) {
        check(inner, false);
        return { kind: 'empty' };
      }
      return inner;
    }
    if (ch === '[') {
      const start = this.i;
      this.i++;
      if (source.charAt(this.i) === '^') this.i++;
      if (source.charAt(this.i) === ']') this.i++;
      while (this.i < source.length && source.charAt(this.i) !== ']') this.i += source.charAt(this.i) === '\\' ? 2 : 1;
      this.i++;
      return { kind: 'set', chars: charsOf(source.slice(start, this.i), this.flags) };
    }
    if (ch === '\\') {
      const next = source.charAt(this.i + 1);
      if (next === 'b' || next === 'B') {
        this.i += 2;
        return { kind: 'empty' };
      }
      if (/[1-9k]/.test(next)) {
        // A backreference can match anything its group did.
        this.i += 2;
        if (next === 'k') this.i = source.indexOf('>', this.i) + 1 || source.length;
        return { kind: 'set', chars: ALL };
      }
      const escape = /^\\(?:x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|c[A-Za-z]|[\s\S])/.exec(source.slice(this.i))?.[0] ?? '\\';
      this.i += escape.length;
      return { kind: 'set', chars: charsOf(escape, this.flags) };
    }
    if (ch === '^' || ch === '$') {
      this.i++;
      return { kind: 'empty' };
    }
    if (source.startsWith('%{', this.i)) {
      const end = source.indexOf('}', this.i);
      const name = (end === -1 ? source.slice(this.i + 2) : source.slice(this.i + 2, end)).split(':')[0] ?? '';
      this.i = end === -1 ? source.length : end + 1;
      return referenceNode(name, this.flags, this.resolveReference);
    }
    this.i++;
    return { kind: 'set', chars: charsOf(ch === '.' ? '.' : ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), this.flags) };
  }
}

/**
 * A grok reference as the analysis sees it: a repetition of every character the
 * library pattern can consume (its own structure was vetted, so it is summarised,
 * never checked again). Unknown names, and patterns this reader cannot summarise,
 * may consume anything.
 */
function referenceNode(name: string, flags: string, resolveReference: ReferenceResolver): Node {
  let chars = ALL;
  let min = 1;
  const expanded = resolveReference(name);
  const cacheKey = `${flags}/${expanded ?? ''}`;
  const cached = expanded === undefined ? undefined : referenceCache.get(cacheKey);
  if (cached !== undefined) return cached;
  if (expanded !== undefined) {
    try {
      const tree = new RegexReader(expanded, flags, resolveReference).parse();
      chars = anyChar(tree);
      if (nullable(tree)) min = 0;
    } catch (error) {
      if (!(error instanceof UnsafePatternError)) throw error;
    }
  }
  const node: Node = { kind: 'repeat', child: { kind: 'set', chars }, min, max: Infinity };
  if (expanded !== undefined && referenceCache.size < 1024) referenceCache.set(cacheKey, node);
  return node;
}

/** Summaries of library patterns: a sample set per character class makes one costly enough to keep. */
const referenceCache = new Map<string, Node>();

/** Can `node` match the empty string? */
function nullable(node: Node): boolean {
  switch (node.kind) {
    case 'set':
      return false;
    case 'empty':
      return true;
    case 'repeat':
      return node.min === 0 || nullable(node.child);
    case 'group':
      return node.alternatives.some((sequence) => sequence.every(nullable));
  }
}

/** Characters `node` can start with. */
function first(node: Node): bigint {
  switch (node.kind) {
    case 'set':
      return node.chars;
    case 'empty':
      return 0n;
    case 'repeat':
      return first(node.child);
    case 'group':
      return node.alternatives.reduce((bits, sequence) => bits | firstOfSequence(sequence), 0n);
  }
}

function firstOfSequence(sequence: readonly Node[]): bigint {
  let bits = 0n;
  for (const node of sequence) {
    bits |= first(node);
    if (!nullable(node)) break;
  }
  return bits;
}

/** Every character `node` can consume anywhere. */
function anyChar(node: Node): bigint {
  switch (node.kind) {
    case 'set':
      return node.chars;
    case 'empty':
      return 0n;
    case 'repeat':
      return anyChar(node.child);
    case 'group':
      return node.alternatives.reduce((bits, sequence) => sequence.reduce((inner, item) => inner | anyChar(item), bits), 0n);
  }
}

export class UnsafePatternError extends Error {}

/**
 * Walks the tree. `follow` is what can come right after `node` within the
 * innermost enclosing unbounded repetition (including its next iteration).
 */
function check(node: Node, insideUnbounded: boolean, iterationStart = 0n, follow = 0n): void {
  if (node.kind === 'repeat') {
    const variable = node.max > node.min;
    if (insideUnbounded && variable && (anyChar(node.child) & follow) !== 0n) {
      throw new UnsafePatternError('a nested quantifier whose repeated part can also match what follows it (e.g. (a+)+ or (\\w+\\s?)*)');
    }
    if (node.max === Infinity) {
      const child = node.child;
      if (child.kind === 'group') assertDisjointAlternatives(child);
      const start = first(child);
      // Only the next iteration matters here: giving characters back to what follows the whole
      // repetition is polynomial, choosing how to split the line between iterations is exponential.
      checkChildren(child, true, start, start);
      return;
    }
    checkChildren(node.child, insideUnbounded, iterationStart, follow);
    return;
  }
  checkChildren(node, insideUnbounded, iterationStart, follow);
}

function checkChildren(node: Node, insideUnbounded: boolean, iterationStart: bigint, follow: bigint): void {
  if (node.kind === 'repeat') {
    check(node, insideUnbounded, iterationStart, follow);
    return;
  }
  if (node.kind !== 'group') return;
  for (const sequence of node.alternatives) {
    sequence.forEach((item, index) => {
      // What can come right after `item`: the rest of its sequence, and past a nullable rest, what follows the group.
      let after = 0n;
      let restNullable = true;
      for (const next of sequence.slice(index + 1)) {
        after |= first(next);
        if (!nullable(next)) {
          restNullable = false;
          break;
        }
      }
      if (restNullable) after |= follow;
      check(item, insideUnbounded, iterationStart, after);
    });
  }
}

function assertDisjointAlternatives(group: Extract<Node, { kind: 'group' }>): void {
  const starts = group.alternatives.map(firstOfSequence);
  for (let a = 0; a < starts.length; a++) {
    for (let b = a + 1; b < starts.length; b++) {
      if (((starts[a] ?? 0n) & (starts[b] ?? 0n)) !== 0n) {
        throw new UnsafePatternError('an alternation under an unbounded quantifier whose alternatives can start with the same character (e.g. (a|ab)*)');
      }
    }
  }
}

/**
 * Returns why `source` can backtrack catastrophically on a hostile line, or
 * undefined when none of the known shapes is found.
 */
export function catastrophicBacktrackingProblem(source: string, flags = '', resolveReference?: ReferenceResolver): string | undefined {
  try {
    check(new RegexReader(source, flags, resolveReference).parse(), false);
    return undefined;
  } catch (error) {
    if (error instanceof UnsafePatternError)
      return `pattern can backtrack catastrophically on a hostile line: ${error.message}; make the repeated parts unambiguous`;
    throw error;
  }
}
