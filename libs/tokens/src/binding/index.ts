export * from './certificate-binding';
export * from './forwarded-certificate';
export * from './forwarded-certificate-trust';
