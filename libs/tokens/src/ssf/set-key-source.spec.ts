import { IssuerMismatchError, TransmitterError } from '../transmitter';
import { fetchTransmitterMetadata } from './set-key-source';

const ISS = 'https://ssf.idp.test/tenant-1';

/** The key source reads discovery with the same checks as stream management: one rule. */
describe("the receiver's transmitter discovery", () => {
  const serving = (doc: unknown) => {
    const asked: string[] = [];
    const fetch = (url: string) => {
      asked.push(url);
      return Promise.resolve(doc);
    };
    return { asked, fetch };
  };

  it('reads the document at the SSF well-known URL and keeps its checked endpoints', async () => {
    const { asked, fetch } = serving({
      issuer: ISS,
      jwks_uri: 'https://ssf.idp.test/jwks',
      delivery_methods_supported: ['urn:ietf:rfc:8935', 7],
    });
    const meta = await fetchTransmitterMetadata(ISS, 500, fetch);
    expect(asked).toEqual(['https://ssf.idp.test/.well-known/ssf-configuration/tenant-1']);
    expect(meta).toMatchObject({
      issuer: ISS,
      jwksUri: 'https://ssf.idp.test/jwks',
      deliveryMethodsSupported: ['urn:ietf:rfc:8935'],
    });
  });

  it.each([
    ['another issuer', { issuer: 'https://evil.test', jwks_uri: 'https://evil.test/jwks' }],
    ['an inherited issuer', Object.create({ issuer: ISS }) as unknown],
  ])('refuses %s: nothing of the document is used', async (_, doc) => {
    await expect(fetchTransmitterMetadata(ISS, 500, serving(doc).fetch)).rejects.toBeInstanceOf(
      IssuerMismatchError,
    );
  });

  it.each(['javascript:alert(1)', 'file:///etc/passwd', 'https://user:pass@ssf.idp.test/jwks', 42])(
    'refuses a jwks_uri %p that is not a plain http(s) URL',
    async (jwks_uri) => {
      await expect(
        fetchTransmitterMetadata(ISS, 500, serving({ issuer: ISS, jwks_uri }).fetch),
      ).rejects.toBeInstanceOf(TransmitterError);
    },
  );
});
