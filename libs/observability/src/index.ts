export * from './logger';
export * from './request-id';
export * from './resolver-metrics';
export * from './transport';
export * from './cluster-metrics';
export * from './cluster-outcomes';
export * from './recent-outcomes';
export * from './internal-errors';
