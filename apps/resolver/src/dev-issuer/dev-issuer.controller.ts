import { Controller, Get, Inject } from '@nestjs/common';
import type { DevIssuer } from '@resolver/tokens';

/** DI token of the embedded development issuer (present only in embedded mode). */
export const DEV_ISSUER = Symbol('DEV_ISSUER');

/**
 * The embedded development issuer's discovery document and JWKS, so other local services can
 * verify dev tokens too. Registered only in embedded mode.
 */
@Controller('dev')
export class DevIssuerController {
  constructor(@Inject(DEV_ISSUER) private readonly dev: DevIssuer) {}

  @Get('jwks.json')
  jwks() {
    return { keys: [{ ...this.dev.publicJwk, use: 'sig' }] };
  }

  @Get('.well-known/openid-configuration')
  discovery() {
    return {
      issuer: this.dev.issuer,
      jwks_uri: `${this.dev.issuer}/jwks.json`,
      id_token_signing_alg_values_supported: ['ES256'],
    };
  }
}
