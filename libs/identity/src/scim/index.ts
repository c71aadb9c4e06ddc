export * from './scim-predicate';
export * from './scim-store';
export * from './render-predicate';
export * from './typeorm-scim-store';
export * from './typeorm-scim-provenance';
export * from './scim-constraints';
