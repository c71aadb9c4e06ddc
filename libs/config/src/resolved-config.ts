import type { ValidatedConfig } from './config.schema';
import type { Immutable } from './immutable';
import type { ClientAssertionAlgorithm, IntrospectionSection } from './introspection.schema';
import type { DecryptionPolicy } from './formats.schema';

/**
 * The configuration the resolver runs with, as {@link resolveSecrets} builds it from the validated
 * file: the validated types with every secret read (kept as sha256 where only a comparison needs
 * it) and every file path made absolute. Types only; the reading is in resolve-secrets.ts.
 */

type ValidatedIssuer = ValidatedConfig['issuers'][number];
type ValidatedScimClient = ValidatedConfig['scim']['clients'][number];
type ValidatedTransmitter = ValidatedConfig['ssf']['transmitters'][number];
type ValidatedPush = NonNullable<ValidatedTransmitter['delivery']['push']>;
type ValidatedPoll = NonNullable<ValidatedTransmitter['delivery']['poll']>;

/** Where an issuer's verification keys come from, with any secret read. */
export type KeySourceConfig =
  | Immutable<Exclude<ValidatedIssuer['keySource'], { kind: 'hmac' }>>
  | { readonly kind: 'hmac'; readonly secret: Uint8Array }
  /** Public JWKs held in memory: the embedded development issuer's, never from a file. */
  | { readonly kind: 'jwks-inline'; readonly keys: readonly { readonly kty: string }[] };

/** How the resolver authenticates at an issuer's introspection endpoint, its secret read. */
export type IntrospectionClientAuth =
  | {
      readonly method: 'client_secret_basic' | 'client_secret_post';
      readonly clientId: string;
      readonly secret: string;
    }
  | {
      readonly method: 'private_key_jwt';
      readonly clientId: string;
      /** Absolute, checked readable; parsed into a key when the verifier is built. */
      readonly privateKeyFile: string;
      readonly algorithm: ClientAssertionAlgorithm;
      readonly keyId?: string;
    };

/** An issuer's introspection settings, as the client uses them. */
export type IntrospectionConfig = Omit<IntrospectionSection, 'clientAuth'> & {
  readonly clientAuth: IntrospectionClientAuth;
};

/** One JWE decryption key as read: its `kid` and private key text (PEM or JWK JSON). */
export interface DecryptionKeyMaterial {
  readonly kid: string;
  readonly material: string;
  /** The YAML field it was read for (`issuers[0].decryption.keys[1]`), for messages. */
  readonly field: string;
}

/** An issuer's JWE policy with its keys read (see {@link DecryptionPolicy}). */
export type DecryptionConfig = Immutable<Omit<DecryptionPolicy, 'keys'>> & {
  readonly keys: readonly DecryptionKeyMaterial[];
};

/** Everything the resolver trusts about one issuer. `origin` is `issuers[2]` or the dev issuer. */
export type IssuerConfig = Immutable<
  Omit<ValidatedIssuer, 'keySource' | 'introspection' | 'decryption'>
> & {
  readonly keySource: KeySourceConfig;
  readonly introspection?: IntrospectionConfig;
  readonly decryption?: DecryptionConfig;
};

/** One SCIM client: who it is, which users it owns, and how its data maps to resolution. */
export type ScimClientConfig = Immutable<Omit<ValidatedScimClient, 'credential'>> & {
  /** sha256 of the bearer credential (the credential is never kept). */
  readonly tokenSha256: Uint8Array;
};

/** The SCIM 2.0 service provider (`/scim/v2`); off when no client is configured. */
export type ScimConfig = Immutable<Omit<ValidatedConfig['scim'], 'clients'>> & {
  readonly clients: readonly ScimClientConfig[];
};

/** Push delivery with its bearer credential kept only as sha256. */
export type SsfPushConfig = Immutable<Omit<ValidatedPush, 'credential'>> & {
  readonly tokenSha256: Uint8Array;
};
/** Poll delivery with the `Authorization` header value read (never logged). */
export type SsfPollDeliveryConfig = Immutable<Omit<ValidatedPoll, 'authorization'>> & {
  readonly authorization?: string;
};
/** One Shared Signals transmitter, its credentials read. */
export type SsfTransmitterConfig = Immutable<Omit<ValidatedTransmitter, 'delivery' | 'stream'>> & {
  readonly delivery: { readonly push?: SsfPushConfig; readonly poll?: SsfPollDeliveryConfig };
  readonly stream: Immutable<Omit<ValidatedTransmitter['stream'], 'authorization'>> & {
    readonly authorization?: string;
  };
};
/** The Shared Signals receiver; off when no transmitter is configured. */
export type SsfConfig = Immutable<Omit<ValidatedConfig['ssf'], 'transmitters'>> & {
  readonly transmitters: readonly SsfTransmitterConfig[];
};

/** The configuration the resolver runs with: built once at boot, read-only afterwards. */
export type ResolverConfig = Immutable<
  Omit<ValidatedConfig, 'issuers' | 'admin' | 'adminEnabled' | 'scim' | 'ssf' | 'binding'>
> & {
  readonly issuers: readonly IssuerConfig[];
  /**
   * Present only when an admin credential is configured: the admin API is off otherwise. `from`
   * says where it was read, for messages that tell a client how to pass it (never the value).
   */
  readonly admin?: { readonly token: Uint8Array; readonly from: AdminCredentialSource };
  /**
   * False when `admin.enabled: false` turns the admin API off whatever the credential; true
   * otherwise (the API then exists once a credential is configured or generated).
   */
  readonly adminEnabled?: boolean;
  readonly scim: ScimConfig;
  readonly ssf: SsfConfig;
  readonly binding: BindingConfig;
  /** The config file's path, or `defaults`. */
  readonly source: string;
};

type ValidatedForwardedCertificate = NonNullable<
  ValidatedConfig['binding']['forwardedCertificate']
>;

/**
 * Where a gateway forwards its client's certificate and whom the resolver believes about it.
 * The shared secret is kept only as its sha256 (compared in constant time, never stored).
 */
export type ForwardedCertificateConfig = Immutable<
  Omit<ValidatedForwardedCertificate, 'sharedSecret'>
> & { readonly secretSha256?: Uint8Array };

/** Sender binding settings that are not per issuer. */
export interface BindingConfig {
  readonly forwardedCertificate?: ForwardedCertificateConfig;
}

/**
 * Where the admin credential was read: a variable, a configured file (`ADMIN_TOKEN_FILE` or
 * `admin.tokenFile`), or the file embedded mode generated under the data dir.
 */
export type AdminCredentialSource =
  | { readonly env: string }
  | { readonly file: string; readonly named: 'ADMIN_TOKEN_FILE' | 'admin.tokenFile' | 'generated' };
