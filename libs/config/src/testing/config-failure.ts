import { ConfigError } from '../config-error';

/**
 * The message of the ConfigError `fn` throws (the field it names), for the config specs; fails
 * the test when `fn` throws anything else or nothing.
 */
export function configFailure(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}
