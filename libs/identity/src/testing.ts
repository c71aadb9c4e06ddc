/*
 * The in-memory fakes of this lib's interfaces, for unit specs (`@resolver/identity/testing`):
 * one database (in-memory-database.ts) behind all of them, each fake beside the interface it
 * fakes. Never imported by code that ships (the lint refuses it outside specs and fakes).
 */
export * from './in-memory-database';
export * from './in-memory-change-announcer';
export * from './in-memory-identity-transactions';
export * from './users/in-memory-user-repository';
export * from './external-identities/in-memory-external-identity-table';
export * from './revocations/in-memory-revocation-repository';
export * from './proofs/in-memory-proof-replay-repository';
export * from './scim/in-memory-scim-store';
export * from './scim/in-memory-scim-transaction';
export * from './scim/in-memory-scim-predicate';
export * from './ssf-streams/in-memory-ssf-stream-repository';
