import { dataObject, defineDataKey, hasUnsafeKeySegment, isUnsafeKeySegment, type DataObject } from '../../shared/record/key-path.js';

/**
 * Attribute and resource keys the processors take from log lines and raw
 * events (JSON and logfmt keys, syslog SD-IDs, raw event attributes and
 * labels). Such a key is data: it may read `x.__proto__.time` or
 * `constructor.prototype.x`, and every consumer that walks dotted keys (document
 * builders, templates) would walk it into a prototype. The processors never
 * drop that data and never pass the dangerous spelling on: each unsafe segment
 * gets a leading `_` (`x.___proto__.time`, `_constructor._prototype.x`), so the
 * value stays on the record under a key that names data only.
 */
export function safeDataKey(key: string): string {
  if (!hasUnsafeKeySegment(key)) return key;
  return key
    .split('.')
    .map((segment) => (isUnsafeKeySegment(segment) ? `_${segment}` : segment))
    .join('.');
}

/** Sets `key` (made safe) on a data-keyed object as an own property. */
export function setDataKey<V>(target: DataObject<V>, key: string, value: NoInfer<V>): void {
  defineDataKey(target, safeDataKey(key), value);
}

/** Copies own enumerable entries of `source` onto `target` with safe keys; unlike Object.assign it never invokes a `__proto__` setter. */
export function copyDataKeys<V>(target: DataObject<V>, source: Readonly<Record<string, V>>): void {
  for (const [key, value] of Object.entries(source)) setDataKey(target, key, value);
}

/** A prototype-free copy of `source` with safe keys. */
export function dataCopy<V>(source: Readonly<Record<string, V>>): DataObject<V> {
  const copy = dataObject<V>();
  copyDataKeys(copy, source);
  return copy;
}

/** Own-property check that never answers from a prototype (`'constructor' in {}` is true). */
export function hasDataKey(target: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(target, key);
}
