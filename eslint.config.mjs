// Type-aware lint: floating promises and non-exhaustive switches over reason codes are bugs here.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import boundaries from './scripts/eslint-boundaries.mjs';

/** Each lib and the libs it may import: the floors of docs/architecture.md, bottom first. */
const LIB_IMPORTS = {
  reasons: [],
  contract: [],
  config: ['reasons'],
  observability: ['config', 'reasons'],
  // Pure rules every writer and the pipeline share: no I/O, nothing above reasons.
  policy: ['config', 'reasons'],
  tokens: ['policy', 'config', 'contract', 'observability', 'reasons'],
  identity: ['policy', 'config', 'contract', 'observability', 'reasons'],
  resolution: ['tokens', 'identity', 'policy', 'config', 'contract', 'observability', 'reasons'],
  provisioning: ['tokens', 'identity', 'policy', 'config', 'contract', 'observability', 'reasons'],
};
const LIBS = Object.keys(LIB_IMPORTS);

/** Specs and the fakes and fixtures they use: the only code that may import a lib's fakes. */
const TEST_CODE = ['**/*.spec.ts', '**/in-memory-*.ts', '**/testing.ts', '**/testing/**'];
const NO_FAKES = {
  regex: '^@resolver/[a-z]+/testing$',
  message: 'Fakes (@resolver/*/testing) are for specs: code that ships uses the real classes.',
};

/** The import rule of one lib: none of `forbidden`, no app, no other lib by relative path. */
function layer(dir, forbidden) {
  const patterns = [
    ...(forbidden.length
      ? [
          {
            regex: `^@resolver/(${forbidden.join('|')})$`,
            message: `${dir} sits below these libs (docs/architecture.md): move the shared piece down instead.`,
          },
        ]
      : []),
    {
      regex: '(^|/)apps/',
      message: 'A lib never imports an app.',
    },
    {
      regex: `^(\\.\\./)+(\\.\\./)?(libs/)?(${LIBS.join('|')})/src`,
      message: 'Import another lib through its @resolver alias.',
    },
  ];
  const files = [`${dir}/**/*.ts`];
  return [
    {
      files,
      ignores: TEST_CODE,
      rules: { 'no-restricted-imports': ['error', { patterns: [...patterns, NO_FAKES] }] },
    },
    {
      files: TEST_CODE.map((p) => `${dir}/${p}`),
      rules: { 'no-restricted-imports': ['error', { patterns }] },
    },
  ];
}

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      '.data/**',
      'coverage/**',
      'docker/**',
      '*.js',
      '*.mjs',
      // The console's esbuild script (plain Node ESM; the bundled sources are linted).
      'apps/console-web/*.mjs',
      // Runs ESM-only validators outside Jest's CommonJS runtime (plain Node ESM).
      'test/support/*.mjs',
      'scripts/**/*.js',
      'scripts/**/*.mjs',
      // Generated from the protos by `npm run proto:types`; a spec keeps it in step.
      'libs/contract/src/grpc-types/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'Read the environment only in libs/config.',
        },
      ],
    },
  },
  {
    files: ['libs/config/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: { 'no-restricted-properties': 'off' },
  },
  // Dependencies point one way (docs/architecture.md): apps -> (resolution, provisioning) ->
  // (tokens, identity) -> (policy, config, contract, observability, reasons). No lib imports an app, a lib
  // above it or a neighbour on its floor, and libs reach each other only through their alias.
  ...Object.entries(LIB_IMPORTS).flatMap(([lib, may]) =>
    layer(
      `libs/${lib}`,
      LIBS.filter((other) => other !== lib && !may.includes(other)),
    ),
  ),
  {
    files: ['apps/**/*.ts', 'apps/**/*.tsx', 'bench/**/*.ts'],
    plugins: { boundaries },
    rules: { 'boundaries/imports': 'error' },
  },
  {
    files: ['apps/**/*.ts', 'apps/**/*.tsx', 'bench/**/*.ts'],
    ignores: TEST_CODE,
    rules: { 'no-restricted-imports': ['error', { patterns: [NO_FAKES] }] },
  },
  {
    // Tests poke at loosely typed wire responses (grpc-js dynamic clients, JSON bodies).
    files: ['test/**/*.ts', '**/*.spec.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      // Fakes implement async interfaces without awaiting anything.
      '@typescript-eslint/require-await': 'off',
    },
  },
);
