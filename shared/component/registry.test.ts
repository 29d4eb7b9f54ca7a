import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, validateConfig } from '../config/load.js';
import { TributaryError } from '../errors.js';
import { ComponentRegistry, sectionShape, typedEntrySchema, type ComponentFactory } from './registry.js';

const alphaSchema = z.strictObject({ type: z.literal('alpha'), size: z.number().default(1) });
const alpha: ComponentFactory<typeof alphaSchema, never, object> = {
  type: 'alpha',
  description: 'the first',
  schema: alphaSchema,
  create: (id, config) => ({ id, size: config.size }),
};

const betaSchema = z.strictObject({ type: z.literal('beta'), name: z.string() });
const beta: ComponentFactory<typeof betaSchema, never, object> = {
  type: 'beta',
  description: 'the second',
  schema: betaSchema,
  create: (id, config) => ({ id, name: config.name }),
};

const registry = new ComponentRegistry('widget', [alpha, beta]);

function problemsOf(document: unknown): string[] {
  try {
    validateConfig(z.strictObject({ widgets: z.record(z.string(), typedEntrySchema(registry)) }), document, 'w.yaml', {});
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((problem) => `${problem.path}: ${problem.message}`);
    throw error;
  }
  return [];
}

describe('ComponentRegistry', () => {
  it('finds factories by type, in registration order, and describes them', () => {
    expect(registry.types).toEqual(['alpha', 'beta']);
    expect(registry.get('beta')).toBe(beta);
    expect(registry.has('gamma')).toBe(false);
    expect(registry.describe()).toEqual([
      { type: 'alpha', description: 'the first' },
      { type: 'beta', description: 'the second' },
    ]);
  });

  it('refuses an unknown type with the known ones, never returning nothing', () => {
    expect(() => registry.get('gamma')).toThrow(TributaryError);
    expect(() => registry.get('gamma')).toThrow('unknown widget type "gamma"; known types are: alpha, beta');
  });

  it('refuses a type registered twice or not lower_snake_case', () => {
    expect(() => new ComponentRegistry('widget', [alpha, alpha])).toThrow('widget type "alpha" is registered twice');
    expect(() => new ComponentRegistry('widget', [{ ...alpha, type: 'Alpha' }])).toThrow('not a lower_snake_case id');
  });
});

describe('typedEntrySchema', () => {
  it("validates an entry with its type's own schema", () => {
    expect(problemsOf({ widgets: { a: { type: 'alpha' }, b: { type: 'beta', name: 'x' } } })).toEqual([]);
    expect(problemsOf({ widgets: { b: { type: 'beta' } } })).toEqual(['widgets.b.name: required key is missing (expected string)']);
    expect(problemsOf({ widgets: { a: { type: 'alpha', colour: 'red' } } })).toEqual([
      'widgets.a.colour: unknown key (check the spelling; see the configuration reference in README.md)',
    ]);
  });

  it('names the type key and the known types for an unknown or missing type', () => {
    expect(problemsOf({ widgets: { a: { type: 'gamma' } } })).toEqual(['widgets.a.type: unknown widget type "gamma"; known types are: alpha, beta']);
    expect(problemsOf({ widgets: { a: {} } })).toEqual(['widgets.a.type: required key is missing (expected one of: alpha, beta)']);
    // A value that does not look like an id is not echoed: it may be something pasted into the wrong key.
    expect(problemsOf({ widgets: { a: { type: 'not an id at all' } } })).toEqual(['widgets.a.type: unknown widget type; known types are: alpha, beta']);
    expect(problemsOf({ widgets: { a: { type: 7 } } })).toEqual(['widgets.a.type: unknown widget type; known types are: alpha, beta']);
  });

  it('leaves an entry that is not a mapping to the default message', () => {
    expect(problemsOf({ widgets: { a: 'alpha' } })).toEqual(['widgets.a: Invalid input: expected object, received string']);
  });

  it("refuses a factory whose schema's type literal is not its own type", () => {
    const wrong = new ComponentRegistry('widget', [{ ...alpha, type: 'gamma' }]);
    expect(() => typedEntrySchema(wrong)).toThrow('its schema\'s type literal is ["alpha"]');
  });
});

describe('sectionShape', () => {
  const one = { type: 'one', description: '', schema: z.object({ ones: z.array(z.string()).default([]) }), create: () => 1 };
  const two = { type: 'two', description: '', schema: z.object({ twos: z.number().optional(), more: z.boolean().default(false) }), create: () => 2 };

  it('unites the sections each factory owns', () => {
    const shape = sectionShape(new ComponentRegistry('stage', [one, two]));
    expect(Object.keys(shape)).toEqual(['ones', 'twos', 'more']);
    expect(z.strictObject(shape).parse({})).toEqual({ ones: [], more: false });
  });

  it('refuses a key owned twice', () => {
    expect(() => sectionShape(new ComponentRegistry('stage', [one, { ...two, type: 'three', schema: z.object({ ones: z.string() }) }]))).toThrow(
      'config key "ones" is owned by two stages',
    );
  });
});
