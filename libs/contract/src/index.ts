export * from './grpc-contract';
export * from './error-info';
export * from './resolution-body';
export type * from './grpc-messages';
