import {
  needsEmbeddedAdminToken,
  readEmbeddedAdminToken,
  readEmbeddedServer,
  type ResolverConfig,
} from '@resolver/config';

/**
 * The configuration every CLI verb reaches the resolver with: the one place the CLI finds a
 * running server. What the operator said explicitly wins (`RESOLVER_URL` or `HTTP_PORT` for
 * HTTP, `GRPC_PORT` for gRPC, `ADMIN_TOKEN` / `ADMIN_TOKEN_FILE`, and a verb's own flags such as
 * `resolve --address`, which the verb applies on top). In embedded mode the rest comes from the
 * data dir, the way `token` finds the dev issuer there: where the running resolver listens
 * (its `server.json`, only while its process lives) and the admin credential it generated
 * (unless the running one was started with another).
 * Otherwise the configuration's own addresses stand.
 */
export async function discoverServer(config: ResolverConfig): Promise<ResolverConfig> {
  if (config.mode !== 'embedded') return config;
  const { dataDir } = config.embedded;
  const running = await readEmbeddedServer(dataDir);
  let found = config;
  if (needsEmbeddedAdminToken(config) && (running?.admin ?? 'generated') === 'generated') {
    const admin = await readEmbeddedAdminToken(dataDir);
    if (admin) found = { ...found, admin };
  }
  if (!running) return found;
  const host = running.host.includes(':') ? `[${running.host}]` : running.host;
  const { addressesGiven } = config;
  return {
    ...found,
    adminUrl: addressesGiven.http ? found.adminUrl : `http://${host}:${running.httpPort}`,
    grpc:
      addressesGiven.grpc || running.grpcPort === 0
        ? found.grpc
        : { bindAddress: running.host, port: running.grpcPort },
  };
}
