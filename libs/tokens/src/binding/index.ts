export * from './certificate-binding';
export * from './confirmation';
export * from './dpop-proof';
export * from './forwarded-certificate';
export * from './forwarded-certificate-trust';
export * from './jwk-thumbprint';
export * from './request-uri';
