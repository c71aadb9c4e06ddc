import type { DataSource } from 'typeorm';
import { CHANGE_CHANNEL } from './change-event';
import { withStoreRetry } from './store-errors';

/**
 * Announces changes that no table trigger sees. An abstract class so it can serve as the DI
 * token; TypeORM stays behind it.
 */
export abstract class ChangeAnnouncer {
  /**
   * Tells every replica to drop all its caches, through the channel the triggers use (a
   * `TRUNCATE` of every table, as far as a listener can tell).
   */
  abstract announceEverythingChanged(): Promise<void>;
}

/** {@link ChangeAnnouncer} as a `pg_notify` through TypeORM's pool. */
export class TypeOrmChangeAnnouncer extends ChangeAnnouncer {
  constructor(
    private readonly dataSource: DataSource,
    private readonly retry: { attempts: number; backoffMs: number },
  ) {
    super();
  }

  async announceEverythingChanged(): Promise<void> {
    await withStoreRetry(
      () =>
        this.dataSource.query('SELECT pg_notify($1, $2)', [
          CHANGE_CHANNEL,
          JSON.stringify({ table: '*', op: 'TRUNCATE' }),
        ]),
      this.retry,
    );
  }
}
