import 'reflect-metadata';
import { ConfigError, loadConfig } from '@resolver/config';
import { AdminCallError } from './admin-client';
import {
  ADMIN_USAGE,
  auditCommand,
  flushCommand,
  identitiesCommand,
  importCommand,
  revokeCommand,
  usersCommand,
} from './admin.commands';
import { DIAGNOSE_USAGE, diagnoseCommand } from './diagnose.command';
import { migrateCommand } from './migrate.command';
import { RESOLVE_USAGE, resolveCommand } from './resolve.command';
import { discoverServer } from './server-discovery';
import { SSF_USAGE, ssfCommand } from './ssf.command';
import { TOKEN_USAGE, tokenCommand } from './token.command';

const USAGE = `subject resolver CLI
usage: cli <command> [options]

commands:
  token     mint a development token from the embedded dev issuer
  resolve   ask ResolveSubject about a token, over HTTP or --grpc
  migrate   apply pending database migrations
  diagnose  explain why a token is refused (admin API)
  users, identities, revoke, flush, import, audit   operate users through the admin API
  ssf       shared signals streams: read, create, status, verify, poll now (admin API)

Every command finds a running embedded resolver (its ports, its admin credential) under DATA_DIR
(./.data); RESOLVER_URL, HTTP_PORT, GRPC_PORT, ADMIN_TOKEN(_FILE) and --address win over that.

${TOKEN_USAGE}

${RESOLVE_USAGE}

${ADMIN_USAGE}

${DIAGNOSE_USAGE}

${SSF_USAGE}`;

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return command ? 0 : 2;
  }
  const config = await discoverServer(loadConfig());
  switch (command) {
    case 'token':
      return tokenCommand(args, config);
    case 'resolve':
      return resolveCommand(args, config);
    case 'migrate':
      return migrateCommand(config);
    case 'users':
      return usersCommand(args, config);
    case 'identities':
      return identitiesCommand(args, config);
    case 'revoke':
      return revokeCommand(args, config);
    case 'flush':
      return flushCommand(config);
    case 'import':
      return importCommand(args, config);
    case 'diagnose':
      return diagnoseCommand(args, config);
    case 'audit':
      return auditCommand(args, config);
    case 'ssf':
      return ssfCommand(args, config);
    default:
      process.stderr.write(`unknown command ${JSON.stringify(command)}\n\n${USAGE}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof AdminCallError) {
      process.stderr.write(`admin API: ${error.message}\n`);
      process.exit(1);
    }
    const prefix = error instanceof ConfigError ? 'configuration error' : 'error';
    process.stderr.write(`${prefix}: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(error instanceof ConfigError ? 78 : 1);
  },
);
