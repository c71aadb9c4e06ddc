import { Controller, Get, Header, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ResolverMetrics, scrapeMetrics } from '@resolver/observability';

/** GET /metrics in the Prometheus text format. */
@Controller()
export class MetricsController {
  constructor(private readonly metrics: ResolverMetrics) {}

  @Get('metrics')
  @Header('cache-control', 'no-store')
  async scrape(@Res() reply: FastifyReply): Promise<void> {
    const body = await scrapeMetrics(this.metrics.registry);
    await reply.type(this.metrics.registry.contentType).send(body);
  }
}
