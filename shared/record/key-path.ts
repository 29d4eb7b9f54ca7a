/**
 * The one place where objects keyed by data (record attributes, parsed JSON
 * and logfmt keys, document fields, template variables) are built. A key from
 * a log line must never reach a prototype: `x.__proto__.time` set by walking
 * plain objects assigns onto `Object.prototype` and rewrites every later
 * record. Two rules keep that impossible:
 *
 * - objects keyed by data have no prototype ({@link dataObject});
 * - a dotted path with a `__proto__`, `constructor` or `prototype` segment is
 *   refused ({@link isUnsafeKeySegment}); callers keep the value under a safe,
 *   flat key or count a rejection, never walk it.
 */

/** Segments that name prototype machinery rather than data. */
export const UNSAFE_KEY_SEGMENTS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Data-keyed objects map a key to a value and nothing else. */
export type DataObject<V> = Record<string, V>;

/** An object with no prototype: `__proto__`, `constructor` and `toString` are plain keys in it. */
export function dataObject<V>(): DataObject<V> {
  return Object.create(null) as DataObject<V>;
}

export function isUnsafeKeySegment(segment: string): boolean {
  return UNSAFE_KEY_SEGMENTS.has(segment);
}

/** True when any dot-separated segment of `path` is unsafe to walk. */
export function hasUnsafeKeySegment(path: string): boolean {
  if (!path.includes('__proto__') && !path.includes('constructor') && !path.includes('prototype')) return false;
  return path.split('.').some(isUnsafeKeySegment);
}

/**
 * Defines `key` on `target` as an own enumerable property, even when the key
 * is `__proto__` (plain assignment would replace the prototype instead).
 */
export function defineDataKey<V>(target: DataObject<V>, key: string, value: V): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/** Own-property lookup that never answers from a prototype. */
export function getOwnDataKey<V>(source: Readonly<DataObject<V>>, key: string): V | undefined {
  return Object.prototype.hasOwnProperty.call(source, key) ? source[key] : undefined;
}
