import { describe, expect, it } from 'vitest';
import { FamilyBuilder, buildAll, fieldsOf, isMetricName, numberOf } from './common.js';

describe('fieldsOf', () => {
  it('splits on runs of whitespace as Go strings.Fields does', () => {
    expect(fieldsOf('   8       0 sda 1\t2  3\r')).toEqual(['8', '0', 'sda', '1', '2', '3']);
    expect(fieldsOf('cpu  1 2')).toEqual(['cpu', '1', '2']);
  });

  it('gives nothing for a blank line', () => {
    expect(fieldsOf('')).toEqual([]);
    expect(fieldsOf(' \t ')).toEqual([]);
  });
});

describe('numberOf', () => {
  it('parses decimals and rejects what is not a number, including the empty string', () => {
    expect(numberOf('18446744073709551615')).toBe(2 ** 64);
    expect(numberOf('0.63')).toBe(0.63);
    expect(numberOf('')).toBeNaN();
    expect(numberOf(undefined)).toBeNaN();
    expect(numberOf('12abc')).toBeNaN();
  });
});

describe('isMetricName', () => {
  it('accepts Prometheus metric names only', () => {
    expect(isMetricName('node_memory_Active_anon_bytes')).toBe(true);
    expect(isMetricName('node_memory_Weird_x)(y_bytes')).toBe(false);
    expect(isMetricName('1abc')).toBe(false);
  });
});

describe('FamilyBuilder', () => {
  it('leaves out families without series', () => {
    const empty = new FamilyBuilder('node_a', 'gauge', 'A.');
    const full = new FamilyBuilder('node_b_total', 'counter', 'B.');
    full.add({ device: 'x' }, 2);
    expect(buildAll([empty, full])).toEqual([
      { name: 'node_b_total', type: 'counter', help: 'B.', series: [{ kind: 'value', name: 'node_b_total', labels: { device: 'x' }, value: 2 }] },
    ]);
  });
});
