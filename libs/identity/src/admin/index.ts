export * from './admin-error';
export * from './admin-inputs';
export * from './user-administration';
export * from './identifier-audit';
