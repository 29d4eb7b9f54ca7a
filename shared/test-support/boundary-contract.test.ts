import { describe, expect, it } from 'vitest';
import { expectLinearTime, expectOnlyTypedErrors, expectPrototypesUntouched } from './boundary-contract.js';

class TypedError extends Error {}

describe('boundary contract helpers', () => {
  it('accepts linear work and rejects quadratic work', () => {
    const linear = (text: string): number => {
      let sum = 0;
      for (let index = 0; index < text.length; index++) sum += text.charCodeAt(index);
      return sum;
    };
    expect(() => expectLinearTime((size) => 'a'.repeat(size * 64), linear)).not.toThrow();
    const quadratic = (text: string): number => {
      let sum = 0;
      for (let outer = 0; outer < text.length; outer++) for (let inner = outer; inner < text.length; inner++) sum ^= text.charCodeAt(inner);
      return sum;
    };
    expect(() => expectLinearTime((size) => 'a'.repeat(size), quadratic, { maxBaseSize: 1 << 14 })).toThrow(/not linear/);
    // Quadratic work is slow by nature: seconds on a loaded two-core machine.
  }, 60_000);

  it('lets typed errors through and names untyped ones', () => {
    expect(
      expectOnlyTypedErrors(() => {
        throw new TypedError('bad');
      }, [TypedError]),
    ).toBeInstanceOf(TypedError);
    expect(() =>
      expectOnlyTypedErrors(() => {
        throw new RangeError('boom');
      }, [TypedError]),
    ).toThrow(/untyped error escaped the boundary: RangeError: boom/);
  });

  it('notices and undoes prototype pollution', () => {
    const polluted = (): void => {
      (Object.prototype as Record<string, unknown>).pollutedForTest = 1;
    };
    expect(() => expectPrototypesUntouched(polluted)).toThrow(/added \[pollutedForTest\]/);
    expect(Object.prototype).not.toHaveProperty('pollutedForTest');
  });
});
