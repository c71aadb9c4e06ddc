export * from './domain-error';
export * from './reason-code';
export * from './reason-table';
export * from './resolution-error';
