import { describe, expect, it } from 'vitest';
import { containerFormatSchema } from './config.js';

describe('containerFormatSchema', () => {
  it('defaults to none', () => {
    expect(containerFormatSchema.parse(undefined)).toBe('none');
  });

  it.each(['none', 'cri', 'docker', 'auto'])('accepts %s', (format) => {
    expect(containerFormatSchema.parse(format)).toBe(format);
  });

  it.each(['json', 'CRI', '', 1])('rejects %s', (format) => {
    expect(containerFormatSchema.safeParse(format).success).toBe(false);
  });
});
