import type { ResolverConfig } from '@resolver/config';

/** The validated config once the bootstrap has settled the database URL (embedded or given). */
export type BootConfig = ResolverConfig & { database: { url: string } };
