export * from './client-auth';
export * from './introspection-answer';
export * from './introspection-client';
export * from './introspection-endpoint';
export * from './signed-answer';
