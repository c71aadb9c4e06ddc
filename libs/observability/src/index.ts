export * from './resolver-metrics';
export * from './transport';
