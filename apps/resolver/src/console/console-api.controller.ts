import { Controller, Get, Header, UseGuards } from '@nestjs/common';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { recentOutcomes, ResolverMetrics } from '@resolver/observability';
import { SsfStreams } from '@resolver/provisioning';
import { REASON_CODES, REASON_TABLE } from '@resolver/reasons';
import { AdminCredentialGuard } from '../shared/admin-credential.guard';

/**
 * The JSON the console needs beyond the admin API, behind the same credential: the reason table
 * (so the page shows a verdict's gRPC status without a copy of the mapping) and the overview's
 * recent answers and pool. Everything else the page reads from the admin API, /v1/diagnose and
 * /health/ready directly: the console decides nothing of its own.
 */
@Controller('console/api')
@UseGuards(AdminCredentialGuard)
export class ConsoleApiController {
  constructor(
    private readonly metrics: ResolverMetrics,
    private readonly streams: SsfStreams,
  ) {}

  @Get('reasons')
  @Header('cache-control', 'no-store')
  reasons() {
    const grpc = (code: GrpcStatus) => ({ code, name: GrpcStatus[code] });
    return {
      OK: { outcome: 'resolved', httpStatus: 200, grpcStatus: grpc(GrpcStatus.OK), title: 'OK' },
      ...Object.fromEntries(
        REASON_CODES.map((reason) => {
          const p = REASON_TABLE[reason];
          return [
            reason,
            {
              outcome: p.outcome,
              httpStatus: p.httpStatus,
              grpcStatus: grpc(p.grpcStatus),
              title: p.title,
            },
          ];
        }),
      ),
    };
  }

  @Get('overview')
  @Header('cache-control', 'no-store')
  async overview() {
    // In a WORKERS cluster the whole cluster's answers; the pool is this worker's.
    return {
      recent: await recentOutcomes(this.metrics.recent),
      pool: this.metrics.poolStats() ?? null,
      // Each Shared Signals transmitter's stream, read now (empty when none is configured).
      streams: await this.streams.refresh(),
    };
  }
}
