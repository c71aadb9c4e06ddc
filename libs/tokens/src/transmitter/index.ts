export * from './transmitter-http';
export * from './ssf-discovery';
export * from './ssf-stream-client';
export * from './ssf-poll-client';
