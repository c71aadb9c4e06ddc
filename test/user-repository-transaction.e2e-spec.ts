import type { DataSource } from 'typeorm';
import { decideStatus } from '@resolver/policy';
import {
  type LookupKey,
  type NewUser,
  TypeOrmIdentityTransactions,
  TypeOrmUserRepository,
} from '../libs/identity/src';
import { migratedDataSource } from './support/database';

const ISS = 'https://repo-tx.idp.test';

const keyOf = (subject: string): LookupKey => ({
  issuer: ISS,
  tenant: '',
  subject,
  strategy: 'external',
  kind: 'user',
});

const userOf = (email: string): NewUser => ({
  tenant: '',
  namespace: ISS,
  kind: 'user',
  email,
  status: decideStatus(null, 'jit', 'active'),
  provenance: 'jit',
});

/**
 * The users table's one repository on a writer's transaction (what IdentityTransactions.run hands
 * its work): the resolve path's lookup and JIT run there too, on that transaction's connection.
 * JIT runs under a savepoint, so a refusal or a dry run undoes only that call and the transaction
 * goes on; nothing is visible outside before the commit.
 */
describe('UserRepository on a transaction (real Postgres)', () => {
  let ds: DataSource;
  let pooled: TypeOrmUserRepository;
  let transactions: TypeOrmIdentityTransactions;

  beforeAll(async () => {
    ({ ds } = await migratedDataSource('repo_tx', 3));
    pooled = new TypeOrmUserRepository(ds, { attempts: 1, backoffMs: 10 });
    transactions = new TypeOrmIdentityTransactions(ds, { attempts: 1, backoffMs: 10 });
  });

  afterAll(async () => {
    await ds?.destroy();
  });

  it('provisions and finds inside the transaction; the pool sees the user only after the commit', async () => {
    let seenOutside: unknown = 'not asked';
    const made = await transactions.run(async ({ users }) => {
      const first = await users.provision(keyOf('tx-ann'), userOf('ann@tx.test'));
      expect(first.created).toBe(true);
      expect((await users.findByKey(keyOf('tx-ann')))?.id).toBe(first.user.id);
      // Provisioning the same key again in the same transaction finds the user just created.
      const again = await users.provision(keyOf('tx-ann'), userOf('ann@tx.test'));
      expect(again).toMatchObject({ created: false, user: { id: first.user.id } });
      seenOutside = await pooled.findByKey(keyOf('tx-ann'));
      return first.user;
    });
    expect(seenOutside).toBeNull();
    expect((await pooled.findByKey(keyOf('tx-ann')))?.id).toBe(made.id);
  });

  it('a dry run and a refusal undo only themselves: the rest of the transaction commits', async () => {
    await pooled.provision(keyOf('tx-holder'), userOf('held@tx.test'));
    const kept = await transactions.run(async ({ users }) => {
      const dry = await users.provision(keyOf('tx-dry'), userOf('dry@tx.test'), { dryRun: true });
      expect(dry.created).toBe(true);
      expect(await users.findByKey(keyOf('tx-dry'))).toBeNull();
      // Another user holds the email: PROVISIONING_REJECTED, and the transaction is still usable.
      await expect(
        users.provision(keyOf('tx-squatter'), userOf('held@tx.test')),
      ).rejects.toMatchObject({ reason: 'PROVISIONING_REJECTED' });
      return users.insert({ ...userOf('kept@tx.test'), provenance: 'admin' });
    });
    expect((await ds.query('SELECT email FROM users WHERE id = $1', [kept.id])) as unknown).toEqual(
      [{ email: 'kept@tx.test' }],
    );
    expect(await pooled.findByKey(keyOf('tx-dry'))).toBeNull();
    expect(await pooled.findByKey(keyOf('tx-squatter'))).toBeNull();
  });
});
