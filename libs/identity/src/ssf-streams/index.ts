export * from './ssf-stream-repository';
export * from './advisory-lock';
