import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import {
  type NearMiss,
  NearMissRepository,
  type NearMissQuery,
  ScimProvenanceRepository,
} from '@resolver/identity';
import { isResolutionError } from '@resolver/reasons';
import { type PresentedCertificate, readPem, readUrlEncodedPem } from '@resolver/tokens';
import { DiagnoseSubject } from './diagnosis/diagnose-subject';
import type { PresentedRequest } from './resolution';
import { HS, unitIssuers, type UnitWorld } from './testing/unit-fixture';

/**
 * Certificate-bound tokens (RFC 8705) through ResolveSubject and DiagnoseSubject with in-memory
 * stores: the binding step compares cnf["x5t#S256"] with the certificate the transport found,
 * on every request (a cached token too), and diagnose names the source and both thumbprints.
 */

class NoNearMisses extends NearMissRepository {
  find(query: NearMissQuery): Promise<NearMiss[]> {
    void query;
    return Promise.resolve([]);
  }
}
class NoScimHistory extends ScimProvenanceRepository {
  find(): Promise<null> {
    return Promise.resolve(null);
  }
}

/** A self-signed certificate from the openssl CLI (test only), and its x5t#S256. */
function certificate(cn: string): { pem: string; x5t: string } {
  const pem = execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'].concat([
      '-keyout',
      '/dev/null',
      '-subj',
      `/CN=${cn}`,
      '-days',
      '2',
    ]),
    { stdio: ['ignore', 'pipe', 'ignore'] },
  ).toString();
  const der = new X509Certificate(pem).raw;
  return { pem, x5t: createHash('sha256').update(der).digest('base64url') };
}

let fixture: Awaited<ReturnType<typeof unitIssuers>>;
let w: UnitWorld;
let mine: ReturnType<typeof certificate>;
let theirs: ReturnType<typeof certificate>;

beforeAll(async () => {
  fixture = await unitIssuers();
  mine = certificate('mine');
  theirs = certificate('theirs');
});
afterAll(() => fixture.cleanup());
beforeEach(async () => {
  w = await fixture.world();
  w.users.seed({ link: { issuer: HS, subject: 'alice' } });
});

const via = (source: PresentedCertificate['source'], pem: string): PresentedRequest => ({
  certificate: { source, reading: readPem(pem) },
});

async function outcome(token: string, presented?: PresentedRequest): Promise<string> {
  try {
    const r = await w.resolver.resolve({
      token,
      transport: 'grpc',
      presented: presented && (() => presented),
    });
    return `OK:${r.source}`;
  } catch (error) {
    if (!isResolutionError(error)) throw error;
    return error.reason;
  }
}

describe('certificate-bound tokens (RFC 8705) in the pipeline', () => {
  it('accepts the certificate the token is bound to, on every request, cached or not', async () => {
    const token = fixture.hs({ cnf: { 'x5t#S256': mine.x5t } });
    expect(await outcome(token, via('tls-peer', mine.pem))).toBe('OK:STORE');
    expect(await outcome(token, via('forwarded-header', mine.pem))).toBe('OK:CACHE');
    // The cached token is checked again: without its certificate it is refused.
    expect(await outcome(token)).toBe('PROOF_MISSING');
    expect(await outcome(token, via('request-field', theirs.pem))).toBe('BINDING_MISMATCH');
    expect(await outcome(token, via('tls-peer', mine.pem))).toBe('OK:CACHE');
  });

  it('refuses by what was wrong: missing, dropped as untrusted, unreadable, another one', async () => {
    const token = fixture.hs({ cnf: { 'x5t#S256': mine.x5t } });
    expect(await outcome(token, {})).toBe('PROOF_MISSING');
    expect(await outcome(token, { certificateIgnored: 'forwarded-header' })).toBe('PROOF_MISSING');
    const garbage: PresentedRequest = {
      certificate: { source: 'ext-authz-source', reading: readUrlEncodedPem('%zz') },
    };
    expect(await outcome(token, garbage)).toBe('PROOF_INVALID');
    expect(await outcome(token, via('ext-authz-source', theirs.pem))).toBe('BINDING_MISMATCH');
  });

  it('refuses a malformed confirmation as CLAIM_INVALID, never as bearer', async () => {
    expect(await outcome(fixture.hs({ cnf: { 'x5t#S256': 'not-a-digest' } }))).toBe(
      'CLAIM_INVALID',
    );
    expect(
      await outcome(
        fixture.hs({ cnf: { 'x5t#S256': mine.x5t.slice(1) } }),
        via('tls-peer', mine.pem),
      ),
    ).toBe('CLAIM_INVALID');
  });

  it('checks both bindings of a token bound to a key and a certificate', async () => {
    // A jkt it cannot prove (no DPoP proof) fails however good the certificate is.
    const token = fixture.hs({ cnf: { 'x5t#S256': mine.x5t, jkt: 'A'.repeat(43) } });
    const reason = await outcome(token, via('tls-peer', mine.pem));
    expect(['PROOF_MISSING', 'BINDING_MISMATCH']).toContain(reason);
  });

  it('diagnose names the certificate source and both thumbprints, and agrees with resolve', async () => {
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
    const token = fixture.hs({ cnf: { 'x5t#S256': mine.x5t } });
    const binding = async (presented?: PresentedRequest) => {
      const d = await diagnoser.diagnose({ token, presented });
      const predicted = d.verdict.reason === 'OK' ? 'OK' : d.verdict.reason;
      const resolved = (await outcome(token, presented)).replace(/^OK:.*/, 'OK');
      expect(predicted).toBe(resolved);
      return d.steps.find((s) => s.step === 'binding');
    };
    const passed = await binding(via('tls-peer', mine.pem));
    expect(passed).toMatchObject({
      status: 'pass',
      details: {
        x5tS256: mine.x5t,
        certificateSource: 'tls-peer',
        certificateThumbprint: mine.x5t,
      },
    });
    const other = await binding(via('forwarded-header', theirs.pem));
    expect(other).toMatchObject({
      status: 'fail',
      details: {
        x5tS256: mine.x5t,
        certificateSource: 'forwarded-header',
        certificateThumbprint: theirs.x5t,
      },
    });
    expect(other?.finding).toContain('BINDING_MISMATCH');
    const dropped = await binding({ certificateIgnored: 'forwarded-header' });
    expect(dropped).toMatchObject({
      status: 'fail',
      details: { certificateSource: null, certificateIgnored: 'forwarded-header' },
    });
    expect(dropped?.finding).toContain('does not trust');
    expect(dropped?.fix).toContain('binding.forwardedCertificate');
    expect(JSON.stringify(other)).not.toContain('BEGIN CERTIFICATE');
  });
});
