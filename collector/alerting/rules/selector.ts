/**
 * Prometheus series selectors (`node_load1{job="node",mode!~"idle|iowait"}`)
 * and label matchers, as rule files write them. Hand-written because the
 * grammar is four operators and quoted strings; a PromQL library would bring a
 * whole query language we do not evaluate.
 */

export type MatchOperator = '=' | '!=' | '=~' | '!~';

export interface LabelMatcher {
  readonly name: string;
  readonly op: MatchOperator;
  readonly value: string;
}

export interface SeriesSelector {
  /** Undefined when the selector is only matchers (`{job="node"}`). */
  readonly metricName?: string;
  readonly matchers: readonly LabelMatcher[];
}

/** A label lookup over a record (attributes first, then resource). */
export type LabelLookup = (name: string) => string | undefined;

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:.]*/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_.]*/;

export class SelectorSyntaxError extends Error {}

/** Parses `name{matchers}`, `name` or `{matchers}`; throws SelectorSyntaxError saying where it went wrong. */
export function parseSelector(text: string): SeriesSelector {
  let rest = text.trim();
  let metricName: string | undefined;
  const name = NAME.exec(rest);
  if (name) {
    metricName = name[0];
    rest = rest.slice(metricName.length).trimStart();
  }
  let matchers: LabelMatcher[] = [];
  if (rest.startsWith('{')) {
    const close = findClosingBrace(rest);
    matchers = parseMatcherList(rest.slice(1, close));
    rest = rest.slice(close + 1).trim();
  }
  if (rest !== '') throw new SelectorSyntaxError(`unexpected ${JSON.stringify(rest)} after the selector`);
  if (metricName === undefined && matchers.length === 0) throw new SelectorSyntaxError('a selector needs a metric name or at least one matcher');
  return { metricName, matchers };
}

function findClosingBrace(text: string): number {
  let quoted = false;
  for (let index = 1; index < text.length; index++) {
    const char = text[index];
    if (quoted && char === '\\') index++;
    else if (char === '"') quoted = !quoted;
    else if (!quoted && char === '}') return index;
  }
  throw new SelectorSyntaxError('missing closing "}"');
}

/** `a="x", b=~"y.*"` (the inside of braces); a trailing comma is allowed as in PromQL. */
export function parseMatcherList(text: string): LabelMatcher[] {
  const matchers: LabelMatcher[] = [];
  let rest = text.trim();
  while (rest !== '') {
    const label = LABEL.exec(rest);
    if (!label) throw new SelectorSyntaxError(`expected a label name at ${JSON.stringify(rest)}`);
    rest = rest.slice(label[0].length).trimStart();
    const op = (['=~', '!~', '!=', '='] as const).find((candidate) => rest.startsWith(candidate));
    if (op === undefined) throw new SelectorSyntaxError(`expected =, !=, =~ or !~ after ${label[0]}`);
    rest = rest.slice(op.length).trimStart();
    const { value, length } = readQuoted(rest, label[0]);
    rest = rest.slice(length).trimStart();
    matchers.push(compileMatcher(label[0], op, value));
    if (rest.startsWith(',')) rest = rest.slice(1).trimStart();
    else if (rest !== '') throw new SelectorSyntaxError(`expected "," between matchers at ${JSON.stringify(rest)}`);
  }
  return matchers;
}

/** One matcher written alone (`service.name="checkout"`), as `logs.match` lists them. */
export function parseMatcher(text: string): LabelMatcher {
  const list = parseMatcherList(text);
  if (list.length !== 1) throw new SelectorSyntaxError(`expected exactly one matcher, got ${list.length}`);
  return list[0] as LabelMatcher;
}

function readQuoted(text: string, label: string): { value: string; length: number } {
  const quote = text[0];
  if (quote !== '"' && quote !== "'") throw new SelectorSyntaxError(`the value of ${label} must be quoted`);
  let value = '';
  for (let index = 1; index < text.length; index++) {
    const char = text[index] as string;
    if (char === quote) return { value, length: index + 1 };
    if (char === '\\') {
      const next = text[++index];
      value += next === 'n' ? '\n' : next === 't' ? '\t' : (next ?? '');
    } else value += char;
  }
  throw new SelectorSyntaxError(`unterminated string in the value of ${label}`);
}

const compiledPatterns = new WeakMap<LabelMatcher, RegExp>();

function compileMatcher(name: string, op: MatchOperator, value: string): LabelMatcher {
  const matcher = { name, op, value };
  if (op === '=~' || op === '!~') {
    try {
      // Anchored like Prometheus: =~"idle|iowait" matches the whole value.
      compiledPatterns.set(matcher, new RegExp(`^(?:${value})$`, 'su'));
    } catch (error) {
      throw new SelectorSyntaxError(`invalid regular expression for ${name}: ${(error as Error).message}`);
    }
  }
  return matcher;
}

/** Prometheus semantics: a missing label is the empty string, so `x!="a"` matches records without x and `x=""` matches only those. */
export function matches(matcher: LabelMatcher, lookup: LabelLookup): boolean {
  const actual = lookup(matcher.name) ?? '';
  switch (matcher.op) {
    case '=':
      return actual === matcher.value;
    case '!=':
      return actual !== matcher.value;
    case '=~':
      return (compiledPatterns.get(matcher) as RegExp).test(actual);
    case '!~':
      return !(compiledPatterns.get(matcher) as RegExp).test(actual);
  }
}
