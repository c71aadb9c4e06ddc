import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, normalize, relative, resolve } from 'node:path';

/**
 * The documentation is a guide (README.md) and a reference (docs/): every relative link in them
 * lands on a file of this repository and, with a fragment, on a heading that exists there (as
 * GitHub names its anchors). A link out of the repository (a memo beside it, `../anything`) is a
 * dead link for every reader of a clone, so none is allowed.
 */
const ROOT = resolve(__dirname, '..');
const DOCS = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
  'docker/README.md',
];

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function slugOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}_\- ]/gu, '')
    .replace(/ /g, '-');
}

function anchorsOf(file: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fence = false;
  for (const line of readFileSync(join(ROOT, file), 'utf8').split('\n')) {
    if (line.startsWith('```')) fence = !fence;
    const m = fence ? null : /^#{1,6} (.*)$/.exec(line);
    if (!m?.[1]) continue;
    const slug = slugOf(m[1]);
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
}

/** Markdown links `[text](target)` outside code fences and inline code. */
function linksOf(file: string): string[] {
  const out: string[] = [];
  let fence = false;
  for (const line of readFileSync(join(ROOT, file), 'utf8').split('\n')) {
    if (line.startsWith('```')) fence = !fence;
    if (fence) continue;
    const prose = line.replace(/`[^`]*`/g, '');
    for (const m of prose.matchAll(/\]\(([^)\s]+)\)/g)) if (m[1]) out.push(m[1]);
  }
  return out;
}

describe('documentation links', () => {
  it.each(DOCS)(
    '%s: every relative link lands in this repository, on a heading that exists',
    (file) => {
      const broken: string[] = [];
      for (const link of linksOf(file)) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(link)) continue; // https:, mailto:
        const [path = '', fragment] = link.split('#');
        const target = path === '' ? file : normalize(join(dirname(file), path));
        const abs = join(ROOT, target);
        if (relative(ROOT, abs).startsWith('..')) broken.push(`${link}: outside the repository`);
        else if (!existsSync(abs)) broken.push(`${link}: no such file`);
        else if (fragment && target.endsWith('.md') && !anchorsOf(target).has(fragment))
          broken.push(`${link}: no heading #${fragment} in ${target}`);
      }
      expect(broken).toEqual([]);
    },
  );

  it('the README is a guide of a few hundred lines, and links every reference document', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme.split('\n').length).toBeLessThanOrEqual(450);
    const linked = new Set(linksOf('README.md').map((l) => l.split('#')[0]));
    const unlinked = DOCS.filter((d) => d.startsWith('docs/') && !linked.has(d));
    expect(unlinked).toEqual([]);
  });

  it('names anchors as GitHub does', () => {
    expect(slugOf('Envoy ext_authz (gRPC): `envoy.service.auth.v3.Authorization/Check`')).toBe(
      'envoy-ext_authz-grpc-envoyserviceauthv3authorizationcheck',
    );
    expect(
      slugOf('Writers of users: each issuer’s own namespace, and operator decisions win'),
    ).toBe('writers-of-users-each-issuers-own-namespace-and-operator-decisions-win');
  });
});
