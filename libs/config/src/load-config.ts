import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ConfigError, formatPath } from './config-error';
import { resolverConfigSchema } from './config.schema';
import { ECHOED_VARIABLES, type Environment } from './env.schema';
import { type ResolverConfig, resolveSecrets } from './resolve-secrets';

/**
 * Loads and validates the configuration once: the YAML file named by `RESOLVER_CONFIG` (if any),
 * then the environment overrides (`DATABASE_URL`, `HTTP_PORT`, `GRPC_PORT`, `BIND_ADDRESS`,
 * `DATA_DIR`, `MIGRATIONS_RUN`, `LOG_LEVEL`, ... see `envOverlaySchema`). Throws {@link ConfigError} naming the bad field.
 */
export function loadConfig(env: Environment = process.env): ResolverConfig {
  const path = env.RESOLVER_CONFIG;
  if (!path) return buildConfig({}, env, { source: 'defaults', baseDir: process.cwd() });
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`RESOLVER_CONFIG: cannot read ${path}: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (error) {
    throw new ConfigError(`${path}: not valid YAML: ${(error as Error).message}`);
  }
  return buildConfig(raw, env, { source: path, baseDir: dirname(resolve(path)) });
}

/**
 * Validates an already-parsed configuration object with the environment overrides, then reads
 * the secrets and files it names (tests build config this way). Throws {@link ConfigError}.
 */
export function buildConfig(
  raw: unknown,
  env: Environment,
  where: { source: string; baseDir: string },
): ResolverConfig {
  const parsed = resolverConfigSchema.safeParse({ file: raw, env });
  if (!parsed.success) throw new ConfigError(describeIssues(parsed.error, env, where.source));
  return resolveSecrets(parsed.data, env, where);
}

/**
 * One message for all issues: those in the file as `<source>: <field>: ...` (one prefix for
 * all), those in the environment as `<VARIABLE>: ...`.
 */
function describeIssues(error: z.ZodError, env: Environment, source: string): string {
  const inFile: string[] = [];
  const inEnv: string[] = [];
  for (const issue of error.issues) {
    const [section, ...path] = issue.path;
    if (section === 'env') {
      const name = String(path[0]);
      const echo = ECHOED_VARIABLES.has(name) && issue.code !== 'custom';
      inEnv.push(`${name}: ${issue.message}${echo ? `, got ${JSON.stringify(env[name])}` : ''}`);
    } else if (issue.code === 'unrecognized_keys') {
      const at = formatPath(path);
      inFile.push(`${issue.keys.map((k) => (at ? `${at}.${k}` : k)).join(', ')}: unknown field`);
    } else {
      inFile.push(`${formatPath(path) || '(root)'}: ${issue.message}`);
    }
  }
  return [...(inFile.length ? [`${source}: ${inFile.join('; ')}`] : []), ...inEnv].join('; ');
}
