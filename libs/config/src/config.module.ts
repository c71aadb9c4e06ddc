import { type DynamicModule, Global, Module } from '@nestjs/common';
import type { ResolverConfig } from './resolve-secrets';

/** DI token of the validated {@link ResolverConfig}. */
export const RESOLVER_CONFIG = Symbol('RESOLVER_CONFIG');

/** Makes the already-validated configuration injectable everywhere. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: ResolverConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: RESOLVER_CONFIG, useValue: config }],
      exports: [RESOLVER_CONFIG],
    };
  }
}
