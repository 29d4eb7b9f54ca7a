import type { NormalizedRecord } from '../../../shared/pipeline/record-sink.js';
import { hasDataKey, setDataKey } from '../data-keys.js';
import { compileCustomPattern, isBuiltInPattern, type BuiltInPattern, type EnrichConfig, type EnrichOperationConfig } from './config.js';

export interface EnrichResult {
  /** Matches replaced by redact operations in this record. */
  redactions: number;
}

/**
 * Applies to log and metric records alike: both have string-keyed attributes
 * and resource. Metric attributes are series labels, so operations on them
 * change series identity downstream (which is what adding a label means).
 */
export type Enricher = (record: NormalizedRecord) => EnrichResult;

type Operation = (record: NormalizedRecord) => number;

/**
 * A record's attributes for writing. Log attributes also hold numbers and
 * booleans, metric attributes only strings; every value an operation writes
 * into a metric record is a string (added values, renamed labels or resource
 * values, redacted text), so the wider type is safe for both.
 */
function attributesOf(record: NormalizedRecord): Record<string, string | number | boolean> {
  return record.attributes;
}

interface FieldRef {
  scope: 'attributes' | 'resource';
  key: string;
}

/** Splits `attributes.a.b` into scope `attributes` and key `a.b`: only the first dot separates. */
function fieldRef(path: string): FieldRef {
  const dot = path.indexOf('.');
  return { scope: path.slice(0, dot) as FieldRef['scope'], key: path.slice(dot + 1) };
}

function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let index = 0; index < digits.length; index++) {
    let digit = digits.charCodeAt(digits.length - 1 - index) - 48;
    if (index % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

interface Redactor {
  regex: RegExp;
  /** Whether a match is really sensitive (a Luhn check for card numbers); every match when absent. */
  accept?: (match: string) => boolean;
  /** Capture group 1 is context that stays (`Bearer `); only the rest of the match is replaced. */
  keepsPrefix?: boolean;
}

/**
 * Built-in patterns run on every untrusted line, so each is linear in the
 * line's length: a match may only start where a run of its characters starts
 * (the lookbehinds), so no two attempts scan the same run; and no lookbehind
 * scans an unbounded run backwards at every position (V8 evaluates a
 * lookbehind at each start, so `(?<=Bearer\s+)` over a long run of spaces was
 * quadratic). A 256 KiB line took 68-72 s with the earlier `email` and
 * `bearer_token` patterns.
 */
const BUILT_INS: Record<BuiltInPattern, () => Redactor> = {
  email: () => ({ regex: /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g }),
  bearer_token: () => ({ regex: /\b(Bearer\s+)[A-Za-z0-9\-._~+/]+=*/gi, keepsPrefix: true }),
  credit_card: () => ({
    regex: /(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])/g,
    accept: (match) => luhnValid(match.replace(/[ -]/g, '')),
  }),
  ipv4: () => ({ regex: /(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\d.]*\d)/g }),
};

function redactor(pattern: string): Redactor {
  return isBuiltInPattern(pattern) ? BUILT_INS[pattern]() : { regex: compileCustomPattern(pattern) };
}

function compileRedact(config: Extract<EnrichOperationConfig, { redact: unknown }>['redact']): Operation {
  const redactors = config.patterns.map(redactor);
  const replacement = config.replacement;
  const redactText = (text: string): { text: string; count: number } => {
    let count = 0;
    for (const { regex, accept, keepsPrefix } of redactors) {
      // A loop over exec rather than String.prototype.replace: V8's replace grows
      // super-linearly with tens of thousands of matches in one line (`Bearer ` × 64 K).
      const parts: string[] = [];
      let copiedUpTo = 0;
      regex.lastIndex = 0;
      for (let match = regex.exec(text); match !== null; match = regex.exec(text)) {
        const found = match[0];
        if (found === '') {
          // An empty match (a custom pattern like `x*`) has nothing to hide; step over it.
          regex.lastIndex++;
          continue;
        }
        if (accept !== undefined && !accept(found)) continue;
        count++;
        parts.push(text.slice(copiedUpTo, match.index), keepsPrefix === true ? (match[1] ?? '') : '', replacement);
        copiedUpTo = match.index + found.length;
      }
      if (copiedUpTo > 0) {
        parts.push(text.slice(copiedUpTo));
        text = parts.join('');
      }
    }
    return { text, count };
  };
  const fields = config.fields?.map((field) => (field === 'body' ? 'body' : fieldRef(field)));
  if (fields === undefined) {
    return (record) => {
      let count = 0;
      if (record.schema === 'tributary.log.v1') {
        const body = redactText(record.body);
        record.body = body.text;
        count += body.count;
      }
      const attributes = attributesOf(record);
      for (const [key, value] of Object.entries(attributes)) {
        if (typeof value !== 'string') continue;
        const result = redactText(value);
        if (result.count > 0) {
          attributes[key] = result.text;
          count += result.count;
        }
      }
      return count;
    };
  }
  return (record) => {
    let count = 0;
    for (const field of fields) {
      if (field === 'body') {
        // Metric records have no body.
        if (record.schema !== 'tributary.log.v1') continue;
        const result = redactText(record.body);
        record.body = result.text;
        count += result.count;
        continue;
      }
      const target = record[field.scope] as Record<string, unknown>;
      const value = hasDataKey(target, field.key) ? target[field.key] : undefined;
      if (typeof value !== 'string') continue;
      const result = redactText(value);
      target[field.key] = result.text;
      count += result.count;
    }
    return count;
  };
}

function compileOperation(operation: EnrichOperationConfig): Operation {
  if ('add' in operation) {
    const attributes = Object.entries(operation.add.attributes ?? {});
    const resource = Object.entries(operation.add.resource ?? {});
    const overwrite = operation.overwrite;
    return (record) => {
      const target = attributesOf(record);
      // Own keys only: `'constructor' in {}` is true, which would skip adding a `constructor` attribute.
      for (const [key, value] of attributes) if (overwrite || !hasDataKey(target, key)) setDataKey(target, key, value);
      for (const [key, value] of resource) if (overwrite || !hasDataKey(record.resource, key)) setDataKey(record.resource, key, value);
      return 0;
    };
  }
  if ('rename' in operation) {
    const from = fieldRef(operation.rename.from);
    const to = fieldRef(operation.rename.to);
    return (record) => {
      const source = from.scope === 'resource' ? record.resource : attributesOf(record);
      if (!Object.hasOwn(source, from.key)) return 0;
      const value = source[from.key] as string | number | boolean;
      Reflect.deleteProperty(source, from.key);
      // Resource values are strings; an attribute moved there is stringified.
      if (to.scope === 'resource') setDataKey(record.resource, to.key, String(value));
      else setDataKey(attributesOf(record), to.key, value);
      return 0;
    };
  }
  if ('drop' in operation) {
    const fields = operation.drop.map(fieldRef);
    return (record) => {
      for (const field of fields) Reflect.deleteProperty(record[field.scope], field.key);
      return 0;
    };
  }
  return compileRedact(operation.redact);
}

/**
 * Compiles the `enrich` operations once; the returned function applies them in
 * order to a record, in place, and reports how many values were redacted.
 */
export function createEnricher(config: EnrichConfig): Enricher {
  const operations = config.map(compileOperation);
  return (record) => {
    let redactions = 0;
    for (const operation of operations) redactions += operation(record);
    return { redactions };
  };
}
