// An ESLint plugin (`boundaries/imports`, enabled for apps/ and bench/ by eslint.config.mjs): the
// import boundaries of the apps, by resolved path. A file of its own so that
// test/import-boundaries.e2e-spec.ts can run the rule without the type-aware config.
import { dirname, join, relative, resolve, sep } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
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
const inRepo = (absolute) => relative(ROOT, absolute).split(sep).join('/');
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
export default {
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
