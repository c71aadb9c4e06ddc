export * from './reason-code';
export * from './reason-table';
export * from './resolution-error';
