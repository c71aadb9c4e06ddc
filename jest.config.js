// Two tiers: unit specs beside the code, and e2e suites in test/ that share one embedded
// Postgres started by the global setup (each suite gets its own database).
const moduleNameMapper = {
  // The fakes of a lib's interfaces, for specs only.
  '^@resolver/identity/testing$': '<rootDir>/libs/identity/src/testing',
  // The OpenTelemetry SDK, loaded only when tracing is on.
  '^@resolver/observability/tracing-sdk$': '<rootDir>/libs/observability/src/tracing-sdk',
  '^@resolver/(config|contract|reasons|policy|tokens|identity|resolution|observability|provisioning)$':
    '<rootDir>/libs/$1/src',
};
const transform = {
  '^.+\\.ts$': ['ts-jest', { isolatedModules: true, tsconfig: '<rootDir>/tsconfig.json' }],
  // jose 6 is ESM only. Node (>= 20.19) require()s it as it is; Jest 29's module loader cannot,
  // so its files are compiled to CommonJS like ours (and cached).
  // dpop (the DPoP client library the binding specs make proofs with) is ESM only too.
  '/node_modules/(jose|dpop)/.+\\.js$': [
    'ts-jest',
    { isolatedModules: true, tsconfig: { allowJs: true, module: 'commonjs', target: 'ES2022' } },
  ],
};
const transformIgnorePatterns = ['/node_modules/(?!jose/|dpop/)'];
module.exports = {
  testTimeout: 60000,
  projects: [
    {
      displayName: 'unit',
      rootDir: __dirname,
      testEnvironment: 'node',
      testMatch: [
        '<rootDir>/libs/**/*.spec.ts',
        '<rootDir>/apps/**/*.spec.ts',
        '<rootDir>/bench/**/*.spec.ts',
      ],
      moduleNameMapper,
      transform,
      transformIgnorePatterns,
    },
    {
      displayName: 'e2e',
      rootDir: __dirname,
      testEnvironment: 'node',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      moduleNameMapper,
      transform,
      transformIgnorePatterns,
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    },
  ],
};
