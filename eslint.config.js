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
 * Forbids importing `folders`, statically (`no-restricted-imports`) and through `import()`, which that rule does
 * not see: a dynamic import loads the code just the same.
 * @param {string[]} folders
 * @param {string} message
 */
function forbid(folders, message) {
  return {
    'no-restricted-imports': ['error', { patterns: [{ regex: into(folders), message }] }],
    'no-restricted-syntax': ['error', { selector: `ImportExpression[source.value=/${into(folders).replaceAll('/', '\\/')}/]`, message }],
  };
}

const TIER_MESSAGE = 'agent/ and collector/ share code only through shared/; each tier imports shared/ and never the other tier.';
const ABOVE_PRODUCTION = 'production code does not load dev tooling (deploy/), test helpers (test/), benchmarks (bench/) or the bin (cli/).';

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
    rules: forbid(
      ['agent', 'collector', 'cli', 'deploy', 'test', 'bench'],
      'shared/ is common to both tiers and imports neither, nor the bin, dev tooling, tests or benchmarks; pass what it needs in.',
    ),
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
    rules: forbid(['collector', 'cli', 'deploy', 'bench'], TIER_MESSAGE),
  },
  {
    files: ['collector/**/*.test.ts'],
    rules: forbid(['agent', 'cli', 'deploy', 'bench'], TIER_MESSAGE),
  },
  {
    files: ['agent/metric-families/to-raw-events.property.test.ts'],
    rules: forbid(['cli', 'deploy', 'bench'], TIER_MESSAGE),
  },
  // The bin may reach deploy/dev (the demo) only through import(), so agent and collector never load the JVM launcher.
  {
    files: ['cli/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: into(['deploy']), message: 'the bin loads dev tooling (deploy/) only through import() when that command runs.' },
            { regex: into(['test', 'bench']), message: 'the bin does not import tests or benchmarks.' },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
