export * from './compact-token';
export * from './dev-issuer';
export * from './issuer-verifier';
export * from './jose-errors';
export * from './key-selection';
export * from './key-source';
export * from './token-verifier';
export * from './verified-token';
