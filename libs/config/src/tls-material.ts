import { createHash, createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** The files of one listener's TLS: absolute paths. */
export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile?: string;
}

/** One listener's certificate chain, key and client CAs, read and checked. */
export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca?: Buffer;
  /** When the serving (leaf) certificate stops being valid. */
  readonly notAfter: Date;
  /** The earliest end of validity among the client CAs. */
  readonly caNotAfter?: Date;
  /** sha256 of the three files: a reload that finds the same bytes changes nothing. */
  readonly digest: string;
}

/** A TLS file that cannot serve: which field names it, and why (never the file's content). */
export class TlsMaterialError extends Error {
  override readonly name = 'TlsMaterialError';
  constructor(
    readonly field: keyof TlsFiles,
    message: string,
  ) {
    super(message);
  }
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----/g;
/** A bundle larger than this is not a certificate file (a wrong path, a log file...). */
const MAX_PEM_BYTES = 1_048_576;

function read(path: string, field: keyof TlsFiles): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new TlsMaterialError(field, `cannot read ${path}: ${(error as Error).message}`);
  }
  if (bytes.length > MAX_PEM_BYTES)
    throw new TlsMaterialError(field, `${path} is larger than 1 MiB: not a PEM file`);
  return bytes;
}

/** Every certificate of a PEM bundle, parsed; at least one. */
function certificates(
  pem: Buffer,
  path: string,
  field: keyof TlsFiles,
): [X509Certificate, ...X509Certificate[]] {
  const blocks = pem.toString('latin1').match(PEM_CERTIFICATE) ?? [];
  if (!blocks.length)
    throw new TlsMaterialError(
      field,
      `${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
    );
  const parse = (block: string, i: number) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      throw new TlsMaterialError(
        field,
        `${path}: certificate ${i + 1} does not parse: ${(error as Error).message}`,
      );
    }
  };
  const [first, ...rest] = blocks;
  return [parse(first as string, 0), ...rest.map((b, i) => parse(b, i + 1))];
}

/**
 * Reads a listener's certificate chain, private key and (optional) client CA bundle and checks
 * that they can serve: every certificate parses, the key is an unencrypted PEM key and belongs to
 * the first (leaf) certificate. Used at boot (a bad file stops it, naming the field) and on every
 * reload (a bad or half-rotated set is refused and the old one kept).
 */
export function readTlsMaterial(files: TlsFiles): TlsMaterial {
  const cert = read(files.certFile, 'certFile');
  const key = read(files.keyFile, 'keyFile');
  const ca = files.caFile === undefined ? undefined : read(files.caFile, 'caFile');
  const [leaf] = certificates(cert, files.certFile, 'certFile');
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch (error) {
    throw new TlsMaterialError(
      'keyFile',
      `${files.keyFile} is not an unencrypted PEM private key: ${(error as Error).message}`,
    );
  }
  if (!leaf.checkPrivateKey(privateKey))
    throw new TlsMaterialError(
      'keyFile',
      `${files.keyFile} is not the key of the certificate in ${files.certFile}`,
    );
  const cas = ca === undefined ? undefined : certificates(ca, files.caFile ?? '', 'caFile');
  const digest = createHash('sha256');
  for (const part of [cert, key, ca ?? Buffer.alloc(0)])
    digest.update(createHash('sha256').update(part).digest());
  return {
    cert,
    key,
    ca,
    notAfter: new Date(leaf.validTo),
    caNotAfter: cas
      ? new Date(Math.min(...cas.map((c) => new Date(c.validTo).getTime())))
      : undefined,
    digest: digest.digest('hex'),
  };
}
