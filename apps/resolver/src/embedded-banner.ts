import { adminOffReason, type ResolverConfig } from '@resolver/config';

/** What the embedded-mode banner needs to know about the started resolver. */
export interface BannerInput {
  readonly httpUrl: string;
  readonly grpcAddress: string;
  readonly devIssuer?: string;
  readonly config: Pick<ResolverConfig, 'admin' | 'adminEnabled' | 'source' | 'mode' | 'embedded'>;
}

/**
 * How another terminal passes the admin credential, never the credential itself: the CLI and
 * curl need the same value the resolver was started with, from where it was read.
 */
function adminHowTo(config: BannerInput['config']): {
  line: string;
  cliPrefix: string;
  bearer: string;
} {
  const from = config.admin?.from;
  if (!from) return { line: `off (${adminOffReason(config) ?? ''})`, cliPrefix: '', bearer: '' };
  if ('env' in from)
    return {
      line: `on, with the credential in ${from.env} (set it to the same value in the other terminal)`,
      // The CLI reads ADMIN_TOKEN unless it has the same config file (admin.tokenEnv).
      cliPrefix: from.env === 'ADMIN_TOKEN' ? '' : `ADMIN_TOKEN="$${from.env}" `,
      bearer: `$${from.env}`,
    };
  if (from.named === 'generated')
    return {
      line: `credential in ${from.file} (mode 0600; the CLI reads it by itself)`,
      cliPrefix: '',
      bearer: `$(cat ${from.file})`,
    };
  return {
    line: `on, with the credential in ${from.file} (${from.named})`,
    cliPrefix: `ADMIN_TOKEN_FILE=${from.file} `,
    bearer: `$(cat ${from.file})`,
  };
}

/** The "up" banner of embedded mode: where everything is, and commands to try in another terminal. */
export function embeddedBanner({ httpUrl, grpcAddress, devIssuer, config }: BannerInput): string {
  const admin = adminHowTo(config);
  const adminTry = config.admin
    ? `
    ${admin.cliPrefix}npm run -s cli -- users list
    ${admin.cliPrefix}npm run -s cli -- diagnose "$TOKEN"
    curl -s ${httpUrl}/admin/v1/users -H "Authorization: Bearer ${admin.bearer}"`
    : '';
  return `
  Subject resolver is up — EMBEDDED DEVELOPMENT MODE (not for production)
    Postgres:    embedded, data under ${config.embedded.dataDir}
    Dev issuer:  ${devIssuer}  (JWKS at ${httpUrl}/dev/jwks.json)
    HTTP:        ${httpUrl}        gRPC: ${grpcAddress}
    Admin:       ${admin.line}

  Try it (in another terminal):
    TOKEN=$(npm run -s token -- --sub alice --email alice@example.com)
    curl -s -X POST ${httpUrl}/v1/resolve -H "Authorization: Bearer $TOKEN"
    npm run -s cli -- resolve "$TOKEN" --grpc
    curl -s ${httpUrl}/metrics | grep '^resolver_resolutions_total' | grep -v ' 0$'${adminTry}
  With grpcurl installed (reflection is on):
    grpcurl -plaintext -d "{\\"token\\":\\"$TOKEN\\"}" ${grpcAddress} identity.v1.SubjectResolver/ResolveSubject

`;
}
