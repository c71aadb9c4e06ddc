import { All, Controller, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { adminOffReason, RESOLVER_CONFIG, type ResolverConfig } from '@resolver/config';
import { sendProblem } from '../transport/problem';

/**
 * Registered instead of the admin API when it is off: every admin route (and /v1/diagnose)
 * answers 404 as a problem document that says the API is disabled and how to enable it, rather
 * than a bare "Not Found" that reads like a wrong URL.
 */
@Controller()
export class AdminDisabledController {
  private readonly detail: string;

  constructor(@Inject(RESOLVER_CONFIG) config: ResolverConfig) {
    this.detail = adminOffReason(config) ?? 'the admin API is disabled';
  }

  @All(['admin', 'admin/*', 'v1/diagnose'])
  disabled(@Res() reply: FastifyReply): void {
    sendProblem(reply, 404, { title: 'Admin API disabled', detail: this.detail });
  }
}
