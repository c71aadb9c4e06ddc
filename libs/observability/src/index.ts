export * from './logger';
export * from './request-id';
export * from './resolver-metrics';
export * from './transport';
export * from './cluster-metrics';
export * from './recent-outcomes';
