// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Layering: `shared/` is the ground floor both tiers stand on, `agent/` and `collector/` never see each other,
 * the bin in `cli/` composes them, and dev tooling (`deploy/`), tests (`test/`) and benchmarks (`bench/`) sit on
 * top. A relative import names its target folder once it has climbed to the repository root, so matching
 * `../` repeated, then the folder, finds imports of it from anywhere below (no folder inside repeats these names).
 */
const into = (/** @type {string[]} */ folders) => `^(\\.\\./)+(${folders.join('|')})(/|$)`;

/**
 * kafkajs is the client library of `shared/kafka/`, which hands out only interfaces of its own: production code
 * elsewhere importing it would tie the tiers to a library whose last release is 2.2.4. Tests, benchmarks and
 * dev tooling may use it, as clients outside the code under test.
 */
const KAFKAJS = '^kafkajs(/|$)';
const KAFKAJS_MESSAGE =
  'kafkajs is imported only in shared/kafka/; use KafkaClient and the interfaces of shared/kafka/ so the client library can be replaced there alone.';

/**
 * The restrictions as rules: imports, statically (`no-restricted-imports`) and through `import()`, which that rule
 * does not see: a dynamic import loads the code just the same. Flat config replaces a rule's options for a file
 * matched by a later object, so every object restricting a file lists all of its restrictions through this.
 * @param {Array<{ regex: string, message: string }>} patterns
 */
function restrict(patterns) {
  return {
    'no-restricted-imports': ['error', { patterns }],
    'no-restricted-syntax': [
      'error',
      ...patterns.map(({ regex, message }) => ({ selector: `ImportExpression[source.value=/${regex.replaceAll('/', '\\/')}/]`, message })),
    ],
  };
}

/**
 * Forbids importing `folders`, and kafkajs unless `kafkajs` allows it.
 * @param {string[]} folders
 * @param {string} message
 * @param {{ kafkajs?: boolean }} [allow]
 */
function forbid(folders, message, allow = {}) {
  return restrict([{ regex: into(folders), message }, ...(allow.kafkajs ? [] : [{ regex: KAFKAJS, message: KAFKAJS_MESSAGE }])]);
}

const TIER_MESSAGE = 'agent/ and collector/ share code only through shared/; each tier imports shared/ and never the other tier.';
const SHARED_FORBIDS = ['agent', 'collector', 'cli', 'deploy', 'test', 'bench'];
const SHARED_MESSAGE = 'shared/ is common to both tiers and imports neither, nor the bin, dev tooling, tests or benchmarks; pass what it needs in.';
const ABOVE_PRODUCTION = 'production code does not load dev tooling (deploy/), test helpers (test/), benchmarks (bench/) or the bin (cli/).';

/**
 * The bin's imports. Only static ones are checked for deploy/: `import()` of it is how the demo is reached.
 * @param {Array<{ regex: string, message: string }>} extra
 */
function cliRules(extra) {
  const { 'no-restricted-syntax': dynamic } = restrict(extra);
  return {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          { regex: into(['deploy']), message: 'the bin loads dev tooling (deploy/) only through import() when that command runs.' },
          { regex: into(['test', 'bench']), message: 'the bin does not import tests or benchmarks.' },
          ...extra,
        ],
      },
    ],
    ...(extra.length > 0 ? { 'no-restricted-syntax': dynamic } : {}),
  };
}

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/'] },
  eslint.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Template literals with numbers are how log and error messages are written here.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      // Fire-and-forget is deliberate where marked with `void`.
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: true }],
      '@typescript-eslint/no-confusing-void-expression': 'off',
    },
  },
  {
    files: ['shared/**'],
    rules: forbid(SHARED_FORBIDS, SHARED_MESSAGE),
  },
  // The one home of kafkajs, and unit tests beside shared code, which may fake or drive it directly.
  {
    files: ['shared/kafka/**', 'shared/**/*.test.ts'],
    rules: forbid(SHARED_FORBIDS, SHARED_MESSAGE, { kafkajs: true }),
  },
  {
    files: ['agent/**'],
    ignores: ['**/*.test.ts'],
    rules: forbid(['collector', 'cli', 'deploy', 'test', 'bench'], `${TIER_MESSAGE} Also, ${ABOVE_PRODUCTION}`),
  },
  {
    files: ['collector/**'],
    ignores: ['**/*.test.ts'],
    rules: forbid(['agent', 'cli', 'deploy', 'test', 'bench'], `${TIER_MESSAGE} Also, ${ABOVE_PRODUCTION}`),
  },
  // Unit tests beside the code may use the record and sink helpers in test/helpers; still not the other tier.
  {
    files: ['agent/**/*.test.ts'],
    // It proves every event the agent produces is one the collector accepts: the one place both sides must meet.
    ignores: ['agent/metric-families/to-raw-events.property.test.ts'],
    rules: forbid(['collector', 'cli', 'deploy', 'bench'], TIER_MESSAGE, { kafkajs: true }),
  },
  {
    files: ['collector/**/*.test.ts'],
    rules: forbid(['agent', 'cli', 'deploy', 'bench'], TIER_MESSAGE, { kafkajs: true }),
  },
  {
    files: ['agent/metric-families/to-raw-events.property.test.ts'],
    rules: forbid(['cli', 'deploy', 'bench'], TIER_MESSAGE, { kafkajs: true }),
  },
  // The bin may reach deploy/dev (the demo) only through import(), so agent and collector never load the JVM launcher.
  {
    files: ['cli/**'],
    ignores: ['**/*.test.ts'],
    rules: cliRules([{ regex: KAFKAJS, message: KAFKAJS_MESSAGE }]),
  },
  {
    files: ['cli/**/*.test.ts'],
    rules: cliRules([]),
  },
  // Only deploy/dev/ holds code today; anything else shipped from deploy/ is production and keeps to KafkaClient.
  {
    files: ['deploy/**'],
    ignores: ['deploy/dev/**', '**/*.test.ts'],
    rules: restrict([{ regex: KAFKAJS, message: KAFKAJS_MESSAGE }]),
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
