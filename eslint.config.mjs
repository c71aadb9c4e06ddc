// Type-aware lint: floating promises and non-exhaustive switches over reason codes are bugs here.
import { dirname, relative, resolve, sep } from 'node:path';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const RESOLVER = 'apps/resolver/src';
/**
 * The rooms of the resolver app that are not features, and what each may import besides libs
 * (every other folder under src/ is a feature: itself, shared/ and transport/). The files at the
 * top of src/ (the composition root and the bootstrap) may import anything of the app.
 */
const RESOLVER_FLOORS = {
  transport: ['transport'],
  shared: ['shared', 'transport'],
  core: ['core', 'shared', 'transport'],
};
const SEE = 'see README "Layout"';

/** A repository path, `/`-separated. */
const inRepo = (absolute) =>
  relative(import.meta.dirname, absolute)
    .split(sep)
    .join('/');
const appOf = (path) => /^apps\/([^/]+)\//.exec(path)?.[1];
/** A resolver file's room: its folder under src/, or '' for the files at the top. */
function roomOf(path) {
  const rest = path.slice(RESOLVER.length + 1);
  return rest.includes('/') ? rest.slice(0, rest.indexOf('/')) : '';
}

/** Why `importer` may not import `target` (repository paths), or undefined when it may. */
function boundaryBroken(importer, target) {
  if (importer.startsWith('bench/') && appOf(target))
    return `bench/ imports no app: what it shares with one is a lib (libs/contract) (${SEE}).`;
  if (appOf(importer) && appOf(target) && appOf(importer) !== appOf(target))
    return `An app never imports another app: share the piece through a lib (${SEE}).`;
  if (!importer.startsWith(`${RESOLVER}/`) || !target.startsWith(`${RESOLVER}/`)) return undefined;
  const from = roomOf(importer);
  const to = roomOf(target);
  if (from === '') return undefined;
  const allowed = RESOLVER_FLOORS[from] ?? [from, 'shared', 'transport'];
  if (allowed.includes(to)) return undefined;
  return `${from}/ imports only ${allowed.map((r) => `${r}/`).join(', ')} and libs, not ${
    to ? `${to}/` : 'the composition root'
  }: move what both need into shared/ or a lib (${SEE}).`;
}

/**
 * The import boundaries of the apps, by resolved path (relative specifiers and baseUrl ones):
 * features stand alone, apps never import apps, the bench imports no app.
 */
const boundaries = {
  rules: {
    imports: {
      meta: { type: 'problem', schema: [], messages: { broken: '{{why}}' } },
      create(context) {
        const importer = inRepo(context.filename);
        const check = (node) => {
          const source = node?.type === 'Literal' ? node.value : undefined;
          if (typeof source !== 'string') return;
          const target = source.startsWith('.')
            ? inRepo(resolve(dirname(context.filename), source))
            : /^(apps|bench)\//.test(source)
              ? source
              : undefined;
          const why = target && boundaryBroken(importer, target);
          if (why) context.report({ node, messageId: 'broken', data: { why } });
        };
        return {
          ImportDeclaration: (node) => check(node.source),
          ExportNamedDeclaration: (node) => check(node.source),
          ExportAllDeclaration: (node) => check(node.source),
          ImportExpression: (node) => check(node.source),
          CallExpression: (node) => {
            if (node.callee.type === 'Identifier' && node.callee.name === 'require')
              check(node.arguments[0]);
          },
        };
      },
    },
  },
};

/** Each lib and the libs it may import: the floors of DESIGN "Layout", bottom first. */
const LIB_IMPORTS = {
  reasons: [],
  contract: [],
  config: ['reasons'],
  observability: ['config', 'reasons'],
  tokens: ['config', 'contract', 'observability', 'reasons'],
  identity: ['config', 'contract', 'observability', 'reasons'],
  resolution: ['tokens', 'identity', 'config', 'contract', 'observability', 'reasons'],
  provisioning: ['tokens', 'identity', 'config', 'contract', 'observability', 'reasons'],
};
const LIBS = Object.keys(LIB_IMPORTS);

/** The import rule of one lib: none of `forbidden`, no app, no other lib by relative path. */
function layer(dir, forbidden) {
  return [
    {
      files: [`${dir}/**/*.ts`],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: [
              ...(forbidden.length
                ? [
                    {
                      regex: `^@resolver/(${forbidden.join('|')})$`,
                      message: `${dir} sits below these libs (DESIGN "Layout"): move the shared piece down instead.`,
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
            ],
          },
        ],
      },
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
  // Dependencies point one way (DESIGN "Layout"): apps -> (resolution, provisioning) ->
  // (tokens, identity) -> (config, contract, observability, reasons). No lib imports an app, a lib
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
