export * from './grpc-contract';
export * from './error-info';
export type * from './grpc-messages';
