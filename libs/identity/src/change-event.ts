/** A change announced by the database triggers (channel `resolver_changes`). */
export type ChangeEvent =
  | {
      readonly table: 'users' | 'external_identities';
      readonly op: string;
      readonly userId?: string;
    }
  | {
      readonly table: 'revoked_tokens';
      readonly op: string;
      readonly issuer?: string;
      readonly jti?: string;
      readonly expiresAt?: string;
    };

export const CHANGE_CHANNEL = 'resolver_changes';

/** Parses a NOTIFY payload; anything unexpected is treated as "everything may have changed". */
export function parseChange(payload: string | undefined): ChangeEvent | 'unknown' {
  try {
    const value = JSON.parse(payload ?? '') as { table?: unknown };
    if (
      value.table === 'users' ||
      value.table === 'external_identities' ||
      value.table === 'revoked_tokens'
    ) {
      return value as ChangeEvent;
    }
  } catch {
    // fall through
  }
  return 'unknown';
}
