import { describe, expect, it } from 'vitest';
import { dataObject, defineDataKey, getOwnDataKey, hasUnsafeKeySegment } from './key-path.js';

describe('key paths built from data', () => {
  it('refuses prototype segments anywhere in a dotted path', () => {
    expect(hasUnsafeKeySegment('x.__proto__.time')).toBe(true);
    expect(hasUnsafeKeySegment('constructor.prototype.polluted')).toBe(true);
    expect(hasUnsafeKeySegment('http.request.method')).toBe(false);
    expect(hasUnsafeKeySegment('my_constructor.prototyped')).toBe(false);
  });

  it('keeps __proto__ as a plain key of a data object', () => {
    const target = dataObject<string>();
    defineDataKey(target, '__proto__', 'value');
    defineDataKey(target, 'constructor', 'other');
    expect(Object.keys(target)).toEqual(['__proto__', 'constructor']);
    expect(getOwnDataKey(target, '__proto__')).toBe('value');
    expect(getOwnDataKey(dataObject<string>(), 'toString')).toBeUndefined();
    expect(({} as Record<string, unknown>).value).toBeUndefined();
  });
});
