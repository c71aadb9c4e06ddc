import type { DataSource, EntityManager } from 'typeorm';

/**
 * Runs `work` in one transaction on one pooled connection. With `rollback`, the transaction is
 * rolled back after `work` succeeds and `work`'s answer is still returned: a dry run makes every
 * check the store makes (unique indexes, constraints, triggers) and leaves nothing behind, and
 * nothing is announced (NOTIFY is delivered on commit only). A failing `work` rolls back too.
 */
export async function inTransaction<T>(
  dataSource: DataSource,
  work: (manager: EntityManager) => Promise<T>,
  options: { readonly rollback?: boolean } = {},
): Promise<T> {
  const runner = dataSource.createQueryRunner();
  try {
    await runner.connect();
    await runner.startTransaction();
    try {
      const result = await work(runner.manager);
      if (options.rollback) await runner.rollbackTransaction();
      else await runner.commitTransaction();
      return result;
    } catch (error) {
      // The error that ended the work is the one to report, not a failed rollback's.
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    }
  } finally {
    await runner.release();
  }
}
