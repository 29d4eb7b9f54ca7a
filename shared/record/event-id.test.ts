import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EventIdScope, eventId } from './event-id.js';

const HEX_128 = /^[0-9a-f]{32}$/;

describe('event ids', () => {
  it('are pinned: changing the derivation changes every stored id, so it must be deliberate', () => {
    expect(eventId('e2e-agent', '2049:131', 0)).toBe('32ab86822dffe91b8220a5bd8c43c204');
    expect(eventId('e2e-agent', '2049:131', 1)).toBe('32ab86822dffe91b53dff7f98eed9143');
    expect(eventId('e2e-agent', '2049:131', 2 ** 32)).toBe('32ab86822dffe91b625ae6ad4651f20b');
    expect(eventId('e2e-agent', '2049:131', Number.MAX_SAFE_INTEGER)).toBe('32ab86822dffe91b14d81e18ecb901bd');
  });

  it('start with 64 bits of SHA-256 over the scope', () => {
    const tag = createHash('sha256').update('agent-1\u0000dev:ino\u0000').digest('hex').slice(0, 16);
    expect(eventId('agent-1', 'dev:ino', 12_345).slice(0, 16)).toBe(tag);
  });

  it('are 32 lowercase hex digits and deterministic across instances', () => {
    const id = new EventIdScope(['agent', 'file']).id(987_654_321);
    expect(id).toMatch(HEX_128);
    expect(new EventIdScope(['agent', 'file']).id(987_654_321)).toBe(id);
    expect(eventId('agent', 'file', 987_654_321)).toBe(id);
  });

  it('write the same ASCII bytes as the text form', () => {
    const scope = new EventIdScope(['agent', 'file']);
    const target = Buffer.alloc(40, 0x2e);
    for (const position of [0, 9, 4_294_967_295, 4_294_967_296, 2 ** 40 + 7, Number.MAX_SAFE_INTEGER]) {
      expect(scope.write(position, target, 4)).toBe(36);
      expect(target.toString('latin1')).toBe(`....${scope.id(position)}....`);
    }
  });

  it('never collide within a scope: the position goes through a permutation', () => {
    const scope = new EventIdScope(['agent', 'file']);
    const ids = new Set<string>();
    const positions: number[] = [];
    for (let position = 0; position < 50_000; position++) positions.push(position);
    // Positions that differ only above 32 bits, and around the 32-bit boundary.
    for (let high = 1; high < 2_000; high++) positions.push(high * 2 ** 32, high * 2 ** 32 + 1, 2 ** 32 - high);
    for (const position of positions) ids.add(scope.id(position));
    expect(ids.size).toBe(new Set(positions).size);
  });

  it('differ between scopes, including scopes that only differ in how the parts are cut', () => {
    const ids = [
      eventId('agent', 'file', 0),
      eventId('agent', 'file2', 0),
      eventId('agent2', 'file', 0),
      eventId('file', 'agent', 0),
      eventId('agentfile', '', 0),
      eventId('agent', 'file', 1),
    ];
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('mix the position into every bit of the second half', () => {
    const scope = new EventIdScope(['agent', 'file']);
    const ones = new Array<number>(64).fill(0);
    const samples = 20_000;
    for (let position = 0; position < samples * 200; position += 200) {
      const half = scope.id(position).slice(16);
      for (let digit = 0; digit < 16; digit++) {
        const nibble = parseInt(half[digit] as string, 16);
        for (let bit = 0; bit < 4; bit++) if ((nibble >> bit) & 1) ones[digit * 4 + bit] = (ones[digit * 4 + bit] as number) + 1;
      }
    }
    for (const count of ones) expect(Math.abs(count / samples - 0.5)).toBeLessThan(0.03);
  });

  it('refuse positions that are not safe non-negative integers', () => {
    const scope = new EventIdScope(['agent', 'file']);
    for (const position of [-1, 1.5, Number.NaN, 2 ** 53]) expect(() => scope.id(position)).toThrow(RangeError);
  });

  it('fold a last part that is not a position into the scope', () => {
    expect(eventId('target', 'series', 'not-a-number')).toMatch(HEX_128);
    expect(eventId('target', 'series', 'not-a-number')).toBe(eventId('target', 'series', 'not-a-number'));
    expect(eventId('target', 'series', -1)).toBe(new EventIdScope(['target', 'series', -1]).id(0));
    expect(eventId('target', 'series', -1)).not.toBe(eventId('target', 'series', 1));
  });
});
