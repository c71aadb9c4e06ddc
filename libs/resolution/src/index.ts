export * from './bearer';
export * from './resolution';
export * from './resolve-subject';
export * from './subject-key';
export * from './user-status';
