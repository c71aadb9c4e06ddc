import { decodeToken, relativeTime, timeClaims } from './decode';

const base64url = (binary: string) =>
  btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const b64 = (v: unknown) => base64url(JSON.stringify(v));

describe('console: decoding a token in the page', () => {
  const header = { alg: 'RS256', kid: 'k1' };
  const payload = { iss: 'https://idp.test', sub: 'alice', iat: 1_767_225_600, exp: 1_767_226_200 };
  const signature = base64url(String.fromCharCode(...new Uint8Array(256).fill(7)));

  it('reads header and payload, counts the signature and never returns it', () => {
    const decoded = decodeToken(`Bearer ${b64(header)}.${b64(payload)}.${signature}`);
    expect(decoded).toEqual({ header, payload, signatureBytes: 256, problems: [], format: 'jws' });
    expect(JSON.stringify(decoded)).not.toContain(signature);
  });

  it('names what is wrong with a token that is not a compact JWT', () => {
    expect(decodeToken('abc').problems).toEqual([
      'a compact JWT has 3 dot-separated parts, this has 1',
      'the header is not base64url-encoded JSON',
    ]);
    expect(decodeToken(`${b64([1])}.${b64(payload)}.`).problems).toEqual([
      'the header is not a JSON object',
    ]);
    expect(decodeToken(`${b64(header)}.%%%.${signature}`).problems).toEqual([
      'the payload is not base64url-encoded JSON',
    ]);
  });

  it('a JWE: the protected header only, the payload said to be encrypted', () => {
    const jwe = decodeToken(`${b64({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'e1' })}.a.b.c.d`);
    expect(jwe).toMatchObject({
      format: 'jwe',
      header: { alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'e1' },
      payload: undefined,
      problems: [],
    });
    expect(jwe.note).toMatch(/encrypted/);
  });

  it('a PASETO v4.public token: its claims and footer; other versions named', () => {
    const message = JSON.stringify({ sub: 'alice', exp: '2030-01-01T00:00:00Z' });
    const body = base64url(message + String.fromCharCode(...new Uint8Array(64).fill(1)));
    const paseto = decodeToken(`v4.public.${body}.${b64({ kid: 'p1' })}`);
    expect(paseto).toEqual({
      format: 'paseto',
      header: { version: 'v4.public', footer: { kid: 'p1' } },
      payload: { sub: 'alice', exp: '2030-01-01T00:00:00Z' },
      signatureBytes: 64,
      problems: [],
    });
    expect(decodeToken('v4.local.abc').problems).toEqual([
      'PASETO v4.local is not accepted: only v4.public',
    ]);
  });

  it('shows time claims absolute and relative', () => {
    const now = new Date('2026-01-01T00:05:00Z');
    expect(timeClaims({ ...payload, nbf: 'soon' }, now)).toEqual([
      { claim: 'iat', label: 'Issued', absolute: '2026-01-01T00:00:00Z', relative: '5 min ago' },
      { claim: 'exp', label: 'Expires', absolute: '2026-01-01T00:10:00Z', relative: 'in 5 min' },
    ]);
    expect(relativeTime(new Date('2026-01-03T00:05:00Z'), now)).toBe('in 2 d');
    expect(relativeTime(now, now)).toBe('now');
  });
});
