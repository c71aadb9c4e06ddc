import { DomainError, ResolutionError } from '@resolver/reasons';

/** SQLSTATE classes that say the data was refused, not that the store is unwell. */
const DATA_CLASSES = new Set(['22', '23']);

/** True for Postgres unique-constraint violations (the JIT race). */
export function isUniqueViolation(error: unknown): boolean {
  return sqlState(error) === '23505';
}

/** True when the store refused the data itself (integrity or data exception). */
export function isDataError(error: unknown): boolean {
  const code = sqlState(error);
  return code !== undefined && DATA_CLASSES.has(code.slice(0, 2));
}

function sqlState(error: unknown): string | undefined {
  const code =
    (error as { code?: unknown; driverError?: { code?: unknown } } | null)?.code ??
    (error as { driverError?: { code?: unknown } } | null)?.driverError?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/**
 * Runs a store call with bounded retries (`attempts` extra tries, exponential backoff), none
 * begun past `deadlineAt` (epoch ms: the caller has been answered by then). Any failure that is
 * not a data error — refused connection, timeout, cancelled statement, a pool that never handed
 * out a connection — ends as `USER_STORE_UNAVAILABLE`, never as "not found". An overloaded
 * pool (`USER_STORE_OVERLOADED`, from `PoolGate`) is not retried: a retry would queue
 * again behind the requests it lost to.
 */
export async function withStoreRetry<T>(
  operation: () => Promise<T>,
  policy: { attempts: number; backoffMs: number },
  deadlineAt?: number,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      // Refusals (every DomainError: a reason, an admin or SCIM answer, a store refusal) and
      // unique violations (a duplicate) are for the caller, not failures.
      if (error instanceof DomainError || isUniqueViolation(error)) throw error;
      // The store refused the data itself: not an outage (a 503 would be retried forever), and
      // not "not found". Each writer answers it as a 400; elsewhere it is a bug to count.
      const refusal = refusalOf(error);
      if (refusal) throw refusal;
      const pauseMs = policy.backoffMs * 2 ** attempt;
      const late = deadlineAt !== undefined && Date.now() + pauseMs >= deadlineAt;
      if (attempt >= policy.attempts || isDataError(error) || late) {
        throw new ResolutionError(
          'USER_STORE_UNAVAILABLE',
          `user store call failed: ${describe(error)}`,
          {
            cause: error,
          },
        );
      }
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  }
}

/** What kind of refusal a {@link StoreRefusal} is. */
export type StoreRefusalKind =
  /** A unique index holds the value already (`constraint` names it). */
  | 'unique'
  /** A referenced row does not exist (a foreign key). */
  | 'reference'
  /** A check constraint or a column length refused the value. */
  | 'invalid';

/**
 * The store refused a write because of its data, not because it is unwell. `constraint` is the
 * index or constraint that refused it, so each caller can name the field in its own vocabulary
 * (the admin API says `email`, SCIM says `emails`). Never retried.
 */
export class StoreRefusal extends DomainError<StoreRefusalKind> {
  override readonly name = 'StoreRefusal';
  constructor(
    kind: StoreRefusalKind,
    readonly constraint: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(
      kind,
      `the store refused the write (${kind}${constraint ? `: ${constraint}` : ''})`,
      options,
    );
  }

  /** What kind of refusal it is: its {@link code}. */
  get kind(): StoreRefusalKind {
    return this.code;
  }
}

/** The {@link StoreRefusal} a driver error stands for, or undefined for any other error. */
export function refusalOf(error: unknown): StoreRefusal | undefined {
  if (error instanceof StoreRefusal) return error;
  const state = sqlState(error) ?? '';
  // Every data exception (class 22: a value out of range, a bad date, U+0000, an encoding the
  // server cannot hold) and a value past a size the store can index (54000) is the input's fault.
  const kind =
    REFUSALS[state] ?? (state.startsWith('22') || state === '54000' ? 'invalid' : undefined);
  if (!kind) return undefined;
  const constraint =
    (error as { constraint?: string }).constraint ??
    (error as { driverError?: { constraint?: string } }).driverError?.constraint;
  return new StoreRefusal(kind, constraint, { cause: error });
}

const REFUSALS: Readonly<Record<string, StoreRefusalKind>> = {
  '23505': 'unique',
  '23503': 'reference',
  '23502': 'invalid',
  '23514': 'invalid',
};

function describe(error: unknown): string {
  if (error instanceof Error)
    return `${(error as { code?: string }).code ?? error.name}: ${error.message}`;
  return String(error);
}
