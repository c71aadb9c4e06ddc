import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ASSERTION_SIGNER } from './gateway-authorizer';
import type { IdentityAssertionSigner } from './identity-assertion';

/** The resolver's own public keys for identity assertions. Registered only when enabled. */
@Controller('.well-known')
export class AssertionJwksController {
  constructor(@Inject(ASSERTION_SIGNER) private readonly signer: IdentityAssertionSigner) {}

  @Get('resolver-jwks.json')
  @Header('cache-control', 'public, max-age=300')
  jwks() {
    return this.signer.jwks();
  }
}
