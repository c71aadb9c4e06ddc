import { All, Controller, Inject } from '@nestjs/common';
import { adminOffReason, RESOLVER_CONFIG, type ResolverConfig } from '@resolver/config';
import { AdminDisabled } from '../shared/admin-disabled';

/**
 * Registered instead of the admin API when it is off: every admin route (and /v1/diagnose)
 * refuses with {@link AdminDisabled}, which the one error path answers as a 404 problem document
 * that says the API is disabled and how to enable it, rather than a bare "Not Found" that reads
 * like a wrong URL.
 */
@Controller()
export class AdminDisabledController {
  private readonly why: string;

  constructor(@Inject(RESOLVER_CONFIG) config: ResolverConfig) {
    this.why = adminOffReason(config) ?? 'the admin API is disabled';
  }

  @All(['admin', 'admin/*', 'v1/diagnose'])
  disabled(): never {
    throw new AdminDisabled(this.why);
  }
}
