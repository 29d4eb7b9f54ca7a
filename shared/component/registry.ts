import { z } from 'zod';
import { TributaryError } from '../errors.js';

/**
 * What a component type is: its config schema (validation and defaults, pure), how an instance is built from a
 * validated config, and a one-line description for documentation and error messages. The OpenTelemetry
 * Collector's factories and Vector's component registration have the same shape; I/O starts only in `create`'s
 * result, never in the schema.
 */
export interface ComponentFactory<Schema extends z.ZodType = z.ZodType, Deps = never, Instance = unknown> {
  /** The config `type:` id (or, for components configured by a fixed section, the section's name). */
  readonly type: string;
  /** One line: what the component does. */
  readonly description: string;
  readonly schema: Schema;
  create(id: string, config: z.output<Schema>, deps: Deps): Instance;
}

/** A factory whose schema is an object discriminated by its own `type` literal, for `sources.<id>` / `outputs.<id>` entries. */
export type TypedSchema = z.ZodObject<{ type: z.ZodLiteral<string> }>;

const TYPE_ID = /^[a-z][a-z0-9_]*$/;

/**
 * The component types of one role (agent sources, collector processors, collector outputs), in registration
 * order. Lookups are exhaustive: a type that is not registered is an error naming the known ones, never a
 * silent fall-through.
 */
export class ComponentRegistry<const Factories extends readonly [ComponentFactory, ...Array<ComponentFactory>]> {
  private readonly byType = new Map<string, Factories[number]>();

  constructor(
    /** The role in words, as error messages name it: `source`, `output`, `processor`. */
    readonly role: string,
    readonly factories: Factories,
  ) {
    for (const factory of factories) {
      if (!TYPE_ID.test(factory.type)) throw new Error(`${role} type "${factory.type}" is not a lower_snake_case id`);
      if (this.byType.has(factory.type)) throw new Error(`${role} type "${factory.type}" is registered twice`);
      this.byType.set(factory.type, factory);
    }
  }

  /** Registered type ids, in registration order. */
  get types(): string[] {
    return this.factories.map((factory) => factory.type);
  }

  has(type: string): boolean {
    return this.byType.has(type);
  }

  get(type: string): Factories[number] {
    const factory = this.byType.get(type);
    // Validation derives from this registry, so only a config that skipped it can get here.
    if (factory === undefined) throw new TributaryError('CONFIG_INVALID', unknownTypeMessage(this.role, type, this.types));
    return factory;
  }

  /** `type: description` for every registered type, for docs and `--help`-style listings. */
  describe(): Array<{ type: string; description: string }> {
    return this.factories.map(({ type, description }) => ({ type, description }));
  }
}

function unknownTypeMessage(role: string, type: unknown, known: readonly string[]): string {
  // The value is echoed only when it looks like an id: anything else may be a value pasted into the wrong key.
  const shown = typeof type === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(type) ? ` "${type}"` : '';
  return `unknown ${role} type${shown}; known types are: ${known.join(', ')}`;
}

type SchemasOf<Factories extends readonly ComponentFactory[]> = { -readonly [K in keyof Factories]: Factories[K]['schema'] };

/**
 * The schema of one `<section>.<id>` entry: the registered factories' own schemas, chosen by `type`. A missing or
 * unknown `type` is reported on the `type` key with the known types; every other problem is the chosen schema's.
 */
export function typedEntrySchema<const Factories extends readonly [ComponentFactory<TypedSchema>, ...Array<ComponentFactory<TypedSchema>>]>(
  registry: ComponentRegistry<Factories>,
): z.ZodDiscriminatedUnion<SchemasOf<Factories>, 'type'> {
  for (const factory of registry.factories) {
    const literal = factory.schema.shape.type.def.values;
    if (literal.length !== 1 || literal[0] !== factory.type) {
      throw new Error(`${registry.role} type "${factory.type}": its schema's type literal is ${JSON.stringify(literal)}`);
    }
  }
  // The tuple type is the factories' schemas in order; map() cannot keep a tuple's element types.
  const schemas = registry.factories.map((factory) => factory.schema) as unknown as SchemasOf<Factories>;
  return z.discriminatedUnion('type', schemas, {
    error: (issue) => {
      // zod types this issue as invalid_union only, but a non-mapping entry arrives here as invalid_type: its
      // default message ("expected object") is the right one.
      const code: string = issue.code;
      if (code !== 'invalid_union') return undefined;
      const input: unknown = issue.input;
      const type = input !== null && typeof input === 'object' && Object.hasOwn(input, 'type') ? (input as { type: unknown }).type : undefined;
      if (type === undefined) return `required key is missing (expected one of: ${registry.types.join(', ')})`;
      return unknownTypeMessage(registry.role, type, registry.types);
    },
  });
}

type UnionToIntersection<U> = (U extends unknown ? (value: U) => void : never) extends (value: infer I) => void ? I : never;
type SectionShapeOf<Factories extends readonly ComponentFactory[]> = UnionToIntersection<
  { [K in keyof Factories]: Factories[K]['schema'] extends z.ZodObject<infer Shape> ? Shape : never }[number]
>;

/**
 * For components configured by fixed top-level sections (the collector's `parsers`, `enrich`, `routes`): every
 * factory's schema is an object of the keys it owns, and the config's shape is their union. A key owned twice is
 * a programming error.
 */
export function sectionShape<const Factories extends readonly [ComponentFactory<z.ZodObject>, ...Array<ComponentFactory<z.ZodObject>>]>(
  registry: ComponentRegistry<Factories>,
): SectionShapeOf<Factories> {
  const shape: Record<string, z.ZodType> = {};
  for (const factory of registry.factories) {
    const owned: Record<string, z.ZodType> = factory.schema.shape;
    for (const [key, schema] of Object.entries(owned)) {
      if (Object.hasOwn(shape, key)) throw new Error(`config key "${key}" is owned by two ${registry.role}s`);
      shape[key] = schema;
    }
  }
  // The runtime object is exactly the union of the shapes that the type spells out.
  return shape as SectionShapeOf<Factories>;
}
