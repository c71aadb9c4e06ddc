export * from './resolver-metrics';
export * from './transport';
export * from './cluster-metrics';
