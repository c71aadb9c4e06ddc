import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { ConfigError } from './config-error';
import type { ValidatedConfig } from './config.schema';
import type { Environment } from './env.schema';
import type { IntrospectionSection } from './introspection.schema';
import type { SecretSource } from './issuer.schema';
import type { SsfSecretRef } from './ssf.schema';
import type {
  AdminCredentialSource,
  DecryptionConfig,
  DecryptionKeyMaterial,
  ForwardedCertificateConfig,
  IntrospectionConfig,
  IssuerConfig,
  ResolverConfig,
  ScimClientConfig,
  SsfPollDeliveryConfig,
  SsfPushConfig,
  SsfTransmitterConfig,
} from './resolved-config';
import { readTlsMaterial, TlsMaterialError } from './tls-material';

export type * from './resolved-config';

type ValidatedIssuer = ValidatedConfig['issuers'][number];
/** How a SCIM client's or a push transmitter's bearer credential is configured. */
type BearerCredential = ValidatedConfig['scim']['clients'][number]['credential'];

const MIN_HMAC_SECRET_BYTES = 32;
const MIN_CREDENTIAL_BYTES = 24;

/**
 * The one step that reads what the validated config names: HMAC secrets (env or file), the
 * admin credential, SCIM credentials (kept only as sha256), and the key files, which are made
 * absolute against `baseDir` and checked readable so a typo fails at boot, not at the first
 * token. Every problem is reported, each naming its YAML field or variable.
 */
export function resolveSecrets(
  config: ValidatedConfig,
  env: Environment,
  where: { source: string; baseDir: string },
): ResolverConfig {
  // Reading goes on past a problem so that one boot reports them all. What a failed read leaves
  // (an empty secret) is never returned: any problem throws before the config is built.
  const problems: string[] = [];
  const inFile = (field: string, message: string) =>
    problems.push(`${where.source}: ${field}: ${message}`);
  const path = (p: string) => (isAbsolute(p) ? p : resolve(where.baseDir, p));
  const readable = (p: string, field: string): string => {
    const absolute = path(p);
    const error = readError(() => readFileSync(absolute));
    if (error !== undefined) inFile(field, `cannot read ${absolute}: ${error}`);
    return absolute;
  };

  const issuers = config.issuers.map((validated): IssuerConfig => {
    const { introspection: section, ...rest } = validated;
    const introspection =
      section &&
      introspectionConfig(
        section,
        `${rest.origin}.introspection.clientAuth`,
        env,
        readable,
        path,
        inFile,
      );
    const issuer = {
      ...rest,
      decryption: decryptionKeys(validated, env, path, inFile),
      paseto: validated.paseto && {
        ...validated.paseto,
        keys: validated.paseto.keys.map((k, i) =>
          k.file === undefined
            ? k
            : { ...k, file: readable(k.file, `${validated.origin}.paseto.keys[${i}].file`) },
        ),
      },
    };
    const source = issuer.keySource;
    if (source.kind === 'files') {
      const paths = source.paths.map((p, i) => readable(p, `${issuer.origin}.keys[${i}]`));
      return { ...issuer, introspection, keySource: { kind: 'files', paths } };
    }
    if (source.kind !== 'hmac') return { ...issuer, introspection, keySource: source };
    const field = `${issuer.origin}.${source.secret.field}`;
    const secret = readHmacSecret(source.secret, env, path, (m) => inFile(field, m));
    if (secret !== undefined && secret.length < MIN_HMAC_SECRET_BYTES)
      inFile(
        field,
        `HMAC secret is ${secret.length} bytes; at least ${MIN_HMAC_SECRET_BYTES} are required`,
      );
    return {
      ...issuer,
      introspection,
      keySource: { kind: 'hmac', secret: new Uint8Array(secret ?? []) },
    };
  });

  const { keyFile } = config.authz.assertion;
  const authz = {
    ...config.authz,
    assertion: {
      ...config.authz.assertion,
      keyFile: keyFile === undefined ? undefined : readable(keyFile, 'authz.assertion.keyFile'),
    },
  };

  // A bearer credential the resolver only ever compares: its sha256, from config or a variable.
  const credentialSha256 = (
    credential: BearerCredential,
    field: string,
    what: string,
  ): Uint8Array => {
    if (credential.kind === 'sha256') return credential.sha256;
    const token = variable(env, credential.env);
    if (token === undefined) inFile(field, `environment variable ${credential.env} is not set`);
    else if (Buffer.byteLength(token) < MIN_CREDENTIAL_BYTES)
      inFile(field, `the ${what} credential must be at least ${MIN_CREDENTIAL_BYTES} bytes`);
    return new Uint8Array(
      createHash('sha256')
        .update(token ?? '', 'utf8')
        .digest(),
    );
  };

  const clients = config.scim.clients.map(({ credential, ...client }, i): ScimClientConfig => ({
    ...client,
    tokenSha256: credentialSha256(credential, `scim.clients[${i}].tokenEnv`, 'SCIM'),
  }));

  const transmitters = config.ssf.transmitters.map((t, i): SsfTransmitterConfig => {
    const at = `ssf.transmitters[${i}]`;
    const { push, poll } = t.delivery;
    const read = (ref: SsfSecretRef, field: string): string | undefined => {
      const source: SecretSource =
        ref.env !== undefined
          ? { env: ref.env, field: 'hmacSecretEnv' }
          : { file: ref.file as string, field: 'hmacSecretFile' };
      const named = `${field}.${ref.env !== undefined ? 'env' : 'file'}`;
      return readHmacSecret(source, env, path, (m) => inFile(named, m))?.toString('utf8');
    };
    let pushConfig: SsfPushConfig | undefined;
    if (push !== undefined) {
      const { credential, ...rest } = push;
      const field = `${at}.delivery.push.tokenEnv`;
      pushConfig = { ...rest, tokenSha256: credentialSha256(credential, field, 'push') };
    }
    let pollConfig: SsfPollDeliveryConfig | undefined;
    if (poll !== undefined) {
      const { authorization, ...rest } = poll;
      pollConfig = {
        ...rest,
        authorization: authorization && read(authorization, `${at}.delivery.poll.authorization`),
      };
    }
    const { authorization: streamAuth, ...stream } = t.stream;
    return {
      ...t,
      delivery: { push: pushConfig, poll: pollConfig },
      stream: {
        ...stream,
        authorization: streamAuth && read(streamAuth, `${at}.stream.authorization`),
      },
    };
  });

  const admin = readAdminToken(config.admin, env, path, where.source, problems);
  const binding = { forwardedCertificate: forwardedCertificate(config, env, path, inFile) };
  const tls = {
    ...config.tls,
    http: config.tls.http && tlsFiles(config.tls.http, 'tls.http', path, inFile),
    grpc: config.tls.grpc && tlsFiles(config.tls.grpc, 'tls.grpc', path, inFile),
  };
  const databaseProblem = databaseTlsProblem(config.database.url);
  if (databaseProblem)
    problems.push(
      `${env.DATABASE_URL !== undefined ? 'DATABASE_URL' : `${where.source}: database.url`}: ${databaseProblem}`,
    );
  if (problems.length > 0) throw new ConfigError(problems.join('; '));
  return {
    ...config,
    issuers,
    authz,
    admin,
    scim: { ...config.scim, clients },
    ssf: { ...config.ssf, transmitters },
    tls,
    binding,
    source: where.source,
  };
}

/**
 * An issuer's introspection section with its client secret read (variable or file) or its
 * private key file made absolute and checked readable. An empty secret is refused: the endpoint
 * would answer every request 401, which the resolver reports as an outage.
 */
function introspectionConfig(
  section: IntrospectionSection,
  field: string,
  env: Environment,
  readable: (p: string, field: string) => string,
  path: (p: string) => string,
  inFile: (field: string, message: string) => void,
): IntrospectionConfig {
  const auth = section.clientAuth;
  if (auth.method === 'private_key_jwt') {
    const privateKeyFile = readable(auth.privateKeyFile, `${field}.privateKeyFile`);
    return { ...section, clientAuth: { ...auth, privateKeyFile } };
  }
  const source: SecretSource =
    auth.clientSecretEnv !== undefined
      ? { env: auth.clientSecretEnv, field: 'hmacSecretEnv' }
      : { file: auth.clientSecretFile as string, field: 'hmacSecretFile' };
  const named = `${field}.${'env' in source ? 'clientSecretEnv' : 'clientSecretFile'}`;
  const secret = readHmacSecret(source, env, path, (m) => inFile(named, m));
  return {
    ...section,
    clientAuth: {
      method: auth.method,
      clientId: auth.clientId,
      secret: secret?.toString('utf8') ?? '',
    },
  };
}

/** The forwarded-certificate section with its shared secret read and hashed (never kept). */
function forwardedCertificate(
  config: ValidatedConfig,
  env: Environment,
  path: (p: string) => string,
  inFile: (field: string, message: string) => void,
): ForwardedCertificateConfig | undefined {
  const section = config.binding.forwardedCertificate;
  if (section === undefined) return undefined;
  const { sharedSecret, ...rest } = section;
  if (sharedSecret === undefined) return rest;
  const source: SecretSource =
    sharedSecret.env !== undefined
      ? { env: sharedSecret.env, field: 'hmacSecretEnv' }
      : { file: sharedSecret.file as string, field: 'hmacSecretFile' };
  const field = `binding.forwardedCertificate.sharedSecret.${'env' in source ? 'env' : 'file'}`;
  const secret = readHmacSecret(source, env, path, (m) => inFile(field, m));
  if (secret !== undefined && secret.length < MIN_CREDENTIAL_BYTES)
    inFile(field, `the shared secret must be at least ${MIN_CREDENTIAL_BYTES} bytes`);
  const secretSha256 = new Uint8Array(
    createHash('sha256')
      .update(secret ?? Buffer.alloc(0))
      .digest(),
  );
  return { ...rest, secretSha256 };
}

/**
 * A listener's TLS files made absolute, and read once now so that a missing file, a key that
 * is not the certificate's or a CA bundle without a certificate stops the boot naming the field.
 */
function tlsFiles<T extends { certFile: string; keyFile: string; caFile?: string | undefined }>(
  listener: T,
  at: string,
  path: (p: string) => string,
  inFile: (field: string, message: string) => void,
): T {
  const files = {
    ...listener,
    certFile: path(listener.certFile),
    keyFile: path(listener.keyFile),
    caFile: listener.caFile === undefined ? undefined : path(listener.caFile),
  };
  try {
    readTlsMaterial(files);
  } catch (error) {
    if (!(error instanceof TlsMaterialError)) throw error;
    inFile(`${at}.${error.field}`, error.message);
  }
  return files;
}

const SSL_MODES = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify'];

/**
 * The database URL's TLS parameters, checked as node-postgres will use them: a known `sslmode`,
 * and the certificate files it names (read by pg on every new connection, relative to the
 * working directory) readable now, rather than every connection failing later as an outage.
 */
function databaseTlsProblem(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  const params = new URL(url).searchParams;
  const mode = params.get('sslmode');
  if (mode !== null && !SSL_MODES.includes(mode))
    return `sslmode must be one of ${SSL_MODES.join(', ')}`;
  for (const name of ['sslrootcert', 'sslcert', 'sslkey']) {
    const file = params.get(name);
    if (file === null) continue;
    const error = readError(() => readFileSync(file));
    if (error !== undefined) return `${name}: cannot read ${file}: ${error}`;
  }
  return undefined;
}

/** An environment variable's value; set but empty counts as unset. */
/**
 * An issuer's JWE decryption keys, each read from its file or variable (the private key's text;
 * the tokens library parses it and names this field if it is no key).
 */
function decryptionKeys(
  issuer: ValidatedIssuer,
  env: Environment,
  path: (p: string) => string,
  inFile: (field: string, message: string) => void,
): DecryptionConfig | undefined {
  const decryption = issuer.decryption;
  if (!decryption) return undefined;
  const keys = decryption.keys.map(({ kid, file, env: name }, i): DecryptionKeyMaterial => {
    const field = `${issuer.origin}.decryption.keys[${i}]`;
    let material: string | undefined;
    if (name !== undefined) {
      material = variable(env, name);
      if (material === undefined) inFile(`${field}.env`, `environment variable ${name} is not set`);
    } else if (file !== undefined) {
      const absolute = path(file);
      const error = readError(() => (material = readFileSync(absolute, 'utf8')));
      if (error !== undefined) inFile(`${field}.file`, `cannot read ${absolute}: ${error}`);
    }
    return { kid, material: material ?? '', field };
  });
  return { ...decryption, keys };
}

function variable(env: Environment, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

function readHmacSecret(
  source: SecretSource,
  env: Environment,
  path: (p: string) => string,
  fail: (message: string) => void,
): Buffer | undefined {
  if ('env' in source) {
    const value = variable(env, source.env);
    if (value === undefined) fail(`environment variable ${source.env} is not set`);
    return value === undefined ? undefined : Buffer.from(value, 'utf8');
  }
  const absolute = path(source.file);
  let text: string | undefined;
  const error = readError(() => (text = readFileSync(absolute, 'utf8')));
  if (error !== undefined) fail(`cannot read ${absolute}: ${error}`);
  // A trailing newline from `echo` is not part of the secret.
  return text === undefined ? undefined : Buffer.from(text.replace(/\r?\n$/, ''), 'utf8');
}

/** The admin bearer secret and where it came from, from its file or variable; undefined = admin off. */
function readAdminToken(
  source: ValidatedConfig['admin'],
  env: Environment,
  path: (p: string) => string,
  configSource: string,
  problems: string[],
): ResolverConfig['admin'] {
  if (source === undefined) return undefined;
  let token: string | undefined;
  let named: string;
  let from: AdminCredentialSource;
  if ('file' in source) {
    named = source.named === 'ADMIN_TOKEN_FILE' ? source.named : `${configSource}: ${source.named}`;
    const absolute = path(source.file);
    from = { file: absolute, named: source.named };
    const error = readError(() => (token = readFileSync(absolute, 'utf8').replace(/\r?\n$/, '')));
    if (error !== undefined) problems.push(`${named}: cannot read ${absolute}: ${error}`);
  } else {
    named = source.env;
    token = variable(env, source.env);
    from = { env: source.env };
  }
  if (token === undefined) return undefined;
  if (Buffer.byteLength(token) < MIN_CREDENTIAL_BYTES) {
    problems.push(`${named}: the admin token must be at least ${MIN_CREDENTIAL_BYTES} bytes`);
    return undefined;
  }
  return { token: new Uint8Array(Buffer.from(token, 'utf8')), from };
}

/** Runs a read; its error message, or undefined when it worked. */
function readError(read: () => unknown): string | undefined {
  try {
    read();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
