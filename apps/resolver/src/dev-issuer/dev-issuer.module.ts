import { type DynamicModule, Module } from '@nestjs/common';
import type { DevIssuer } from '@resolver/tokens';
import { DEV_ISSUER, DevIssuerController } from './dev-issuer.controller';

/** The embedded mode's development issuer: its JWKS and discovery under /dev. */
@Module({})
export class DevIssuerModule {
  static forRoot(devIssuer: DevIssuer): DynamicModule {
    return {
      module: DevIssuerModule,
      providers: [{ provide: DEV_ISSUER, useValue: devIssuer }],
      controllers: [DevIssuerController],
    };
  }
}
