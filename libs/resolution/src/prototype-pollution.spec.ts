import type { IssuerConfig } from '@resolver/config';
import { isResolutionError } from '@resolver/reasons';
import { NearMissRepository, ScimProvenanceRepository } from '@resolver/identity';
import { DiagnoseSubject } from './diagnosis/diagnose-subject';
import { ES, HS, unitIssuers, type UnitWorld } from './testing/unit-fixture';

/**
 * Claims are read as own properties only. Something that writes onto `Object.prototype` (the
 * SCIM PATCH hole of issue #22 did: `__proto__.tid = "acme"`) must change no answer: a token
 * without a `tid` claim must never read the polluted `tid` and land in tenant acme as its admin.
 * Every claim name the configuration can name, and every registered claim and header name, is
 * polluted at once (pollution itself is stopped at the surfaces that could cause it, and by
 * `--disable-proto=delete`: see the SCIM and admin adversarial suites); each token's answer (reason, source, principal) and diagnosis verdict must be
 * what it was before.
 */

class NoNearMisses extends NearMissRepository {
  find(): Promise<[]> {
    return Promise.resolve([]);
  }
}
class NoScimHistory extends ScimProvenanceRepository {
  find(): Promise<null> {
    return Promise.resolve(null);
  }
}

/** Every claim name an issuer's configuration names. */
function configuredClaims(issuer: IssuerConfig): string[] {
  return [
    issuer.subject.claim,
    ...(issuer.tenant ? [issuer.tenant.claim] : []),
    ...(issuer.serviceAccounts?.when ? [issuer.serviceAccounts.when.claim] : []),
    ...(issuer.serviceAccounts ? [issuer.serviceAccounts.clientIdClaim] : []),
    ...Object.keys(issuer.jit.map),
    ...issuer.jit.requiredClaims,
    ...issuer.requiredClaims,
  ];
}

const REGISTERED = [
  // RFC 7519 claims and the ones IdPs commonly add.
  'iss',
  'sub',
  'aud',
  'exp',
  'nbf',
  'iat',
  'jti',
  'azp',
  'scope',
  'scp',
  'email',
  'roles',
  'tid',
  'gty',
  'client_id',
  'preferred_username',
  'name',
  'sid',
  'cnf',
  'act',
  // JOSE header parameters the decoder or the key step looks at.
  'alg',
  'kid',
  'typ',
  'cty',
  'crit',
  'b64',
  'zip',
  'enc',
  'jku',
  'jwk',
  'x5u',
  'x5c',
];

/** What a hostile writer would put on the prototype for each name. */
function hostile(name: string, hsConfig: IssuerConfig): unknown {
  if (name === 'tid') return 'acme';
  if (name === hsConfig.serviceAccounts?.when?.claim) return hsConfig.serviceAccounts.when.equals;
  if (['exp', 'nbf', 'iat'].includes(name)) return 1;
  if (name === 'aud') return 'api://somebody-else';
  if (name === 'crit' || name === 'roles' || name === 'scp') return ['admin'];
  return 'polluted';
}

let fixture: Awaited<ReturnType<typeof unitIssuers>>;

beforeAll(async () => {
  fixture = await unitIssuers();
});
afterAll(() => fixture.cleanup());

async function seeded(): Promise<UnitWorld> {
  const w = await fixture.world();
  w.users.seed({ email: 'alice@x.test', link: { issuer: HS, subject: 'alice' } });
  // The victim: acme's admin with the same subject, which a polluted `tid` would land on.
  w.users.seed({
    tenant: 'acme',
    roles: ['admin'],
    email: 'alice@acme.test',
    link: { issuer: HS, subject: 'alice' },
  });
  w.users.seed({ tenant: 'acme', link: { issuer: ES, subject: 'erin' } });
  return w;
}

async function answers(tokens: readonly string[]): Promise<string[]> {
  const w = await seeded();
  const diagnoser = new DiagnoseSubject(
    w.config,
    w.verifier,
    w.users,
    w.revocations,
    new NoNearMisses(),
    w.caches,
    w.clock,
    new NoScimHistory(),
    w.proofs,
  );
  const out: string[] = [];
  for (const token of tokens) {
    const verdict = (await diagnoser.diagnose({ token })).verdict;
    let answer: string;
    try {
      const r = await w.resolver.resolve({ token, transport: 'http' });
      // Ids are random per world; every other field of the answer must be the same.
      const { id: _id, ...principal } = r.principal;
      answer = JSON.stringify({ source: r.source, principal, subject: r.token.subject });
    } catch (error) {
      if (!isResolutionError(error)) throw error;
      answer = error.reason;
    }
    out.push(`${answer} | diagnose ${verdict.reason}`);
  }
  return out;
}

describe('claims are own properties: a polluted Object.prototype changes no answer', () => {
  it('for every configured and registered claim name', async () => {
    const tokens = [
      fixture.hs({}), // alice, no tid: tenant ''
      fixture.hs({ tid: 'acme' }), // acme's alice
      fixture.hs({ sub: 'bob', email: 'bob@x.test' }), // JIT in tenant ''
      fixture.hs({ sub: 'carol' }), // JIT refused: no email
      fixture.hs({ sub: 'svc' }), // no gty: a person, not a service
      fixture.hs({ aud: undefined }),
      fixture.hs({ exp: undefined }),
      await fixture.es({ tid: undefined }), // TENANT_MISSING, never acme
      await fixture.es({}),
    ];
    const before = await answers(tokens);

    const hsConfig = fixture.config.issuers.find((i) => i.issuer === HS) as IssuerConfig;
    const names = [
      ...new Set([...fixture.config.issuers.flatMap(configuredClaims), ...REGISTERED]),
    ];
    expect(names).toEqual(expect.arrayContaining(['tid', 'email', 'gty', 'client_id', 'sub']));
    const proto = Object.prototype as Record<string, unknown>;
    const polluted = names.filter((n) => !(n in proto));
    try {
      // Non-enumerable, so that prom-client (which walks label objects with for...in) keeps
      // counting: what is under test is how claims are read, and a plain read still sees these.
      for (const name of polluted)
        Object.defineProperty(proto, name, {
          value: hostile(name, hsConfig),
          configurable: true,
          writable: true,
          enumerable: false,
        });
      // The pollution is real: a plain object now "has" these claims.
      expect(({} as Record<string, unknown>).tid).toBe('acme');
      const after = await answers(tokens);
      expect(after).toEqual(before);
    } finally {
      for (const name of polluted) delete proto[name];
    }
    expect(before[0]).toContain('"tenantId":""');
    expect(before[4]).not.toContain('"kind":"service"');
  });
});
