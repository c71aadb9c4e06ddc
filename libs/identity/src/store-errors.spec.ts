import { DomainError, ResolutionError } from '@resolver/reasons';
import { StoreRefusal, withStoreRetry } from './store-errors';

/** A refusal class of a lib above this one (as AdminError or ScimError are). */
class RefusalFromAbove extends DomainError<'NOPE'> {
  constructor() {
    super('NOPE', 'refused above the store');
  }
}

const policy = { attempts: 3, backoffMs: 0 };

/** Runs `error` through the retry policy: what comes out, and how many tries it took. */
async function outcome(error: Error): Promise<{ thrown: unknown; tries: number }> {
  let tries = 0;
  const thrown = await withStoreRetry(() => {
    tries++;
    return Promise.reject(error);
  }, policy).catch((e: unknown) => e);
  return { thrown, tries };
}

describe('withStoreRetry tells refusals from failures by class', () => {
  it.each([
    ['a reason', new ResolutionError('USER_NOT_FOUND')],
    ['a store refusal', new StoreRefusal('unique', 'users_email_key')],
    ['a refusal of a lib above (any DomainError)', new RefusalFromAbove()],
  ])('%s passes through untouched, tried once', async (_name, error) => {
    expect(await outcome(error)).toEqual({ thrown: error, tries: 1 });
  });

  it('a look-alike that only claims to be a refusal is a store failure, retried then 503', async () => {
    const lookalike = Object.assign(new Error('ECONNRESET'), { notAStoreFailure: true });
    const { thrown, tries } = await outcome(lookalike);
    expect(tries).toBe(policy.attempts + 1);
    expect(thrown).toBeInstanceOf(ResolutionError);
    expect((thrown as ResolutionError).code).toBe('USER_STORE_UNAVAILABLE');
  });

  it('every refusal carries its stable code, and a StoreRefusal its kind', () => {
    const refusal = new StoreRefusal('reference', 'fk');
    expect([refusal.code, refusal.kind, refusal instanceof DomainError]).toEqual([
      'reference',
      'reference',
      true,
    ]);
    expect(new ResolutionError('TOKEN_EXPIRED').code).toBe('TOKEN_EXPIRED');
  });
});
