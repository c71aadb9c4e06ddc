import { ConfigError } from './config-error';
import { LOG_LEVELS } from './config.schema';
import type { LogLevel } from './config.types';

/**
 * Reading single environment variables into typed values, each failure naming its variable.
 * Only libs/config reads the environment.
 */

/** The environment the resolver reads; every other module gets typed config instead. */
export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Fails at boot, naming DATABASE_URL, instead of the pool retrying an address that can never
 * work. The password is never echoed.
 */
export function checkDatabaseUrl(value: string): void {
  if (!/^postgres(ql)?:\/\//.test(value))
    throw new ConfigError('DATABASE_URL: must be a postgres:// (or postgresql://) URL');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(
      'DATABASE_URL: is not a parsable URL (check the escaping of the password)',
    );
  }
  if (!url.hostname && !url.searchParams.get('host'))
    throw new ConfigError('DATABASE_URL: names no host (postgres://user:password@host:5432/db)');
  if (url.port !== '' && (Number(url.port) < 1 || Number(url.port) > 65535))
    throw new ConfigError('DATABASE_URL: port must be 1-65535');
}

export function envString(env: Environment, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

export function envPort(env: Environment, name: string): number | undefined {
  const value = envString(env, name);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535)
    throw new ConfigError(`${name}: must be a port number (0-65535), got ${JSON.stringify(value)}`);
  return n;
}

export function envLogLevel(env: Environment, name: string): LogLevel | undefined {
  const value = envString(env, name)?.toLowerCase();
  if (value === undefined) return undefined;
  if (!(LOG_LEVELS as readonly string[]).includes(value))
    throw new ConfigError(
      `${name}: must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(value)}`,
    );
  return value as LogLevel;
}

export function envBoolean(env: Environment, name: string): boolean | undefined {
  const value = envString(env, name);
  if (value === undefined) return undefined;
  if (/^(1|true|yes)$/i.test(value)) return true;
  if (/^(0|false|no)$/i.test(value)) return false;
  throw new ConfigError(`${name}: must be true or false, got ${JSON.stringify(value)}`);
}
