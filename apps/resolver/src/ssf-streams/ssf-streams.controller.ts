import { Body, Controller, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ResolverLogger } from '@resolver/observability';
import {
  type StreamStatusInput,
  streamStatusInput,
  SsfStreamManagement,
  transmitterParam,
  type VerifyInput,
  verifyInput,
} from '@resolver/provisioning';
import { AdminCredentialGuard } from '../shared/admin-credential.guard';
import { ZodPipe } from '../shared/zod.pipe';
import { SsfPollerService } from './ssf-poller.service';

const NAME = new ZodPipe(transmitterParam);

/**
 * /admin/v1/ssf/streams: Shared Signals stream management (SSF 1.0 §8) and "poll now". Thin:
 * inputs are checked here by their zod schemas; each route calls one use case. Behind the admin
 * credential, checked before a body is read. A transmitter that fails or answers badly is a 502
 * naming what failed.
 */
@Controller('admin/v1/ssf/streams')
@UseGuards(AdminCredentialGuard)
export class SsfStreamsController {
  constructor(
    private readonly management: SsfStreamManagement,
    private readonly poller: SsfPollerService,
    private readonly log: ResolverLogger,
  ) {}

  private audit(action: string, transmitter: string, detail?: Record<string, string>): void {
    this.log.logAdminChange({ actor: 'admin-api', action, detail: { transmitter, ...detail } });
  }

  @Get()
  async list() {
    return { streams: await this.management.list() };
  }

  @Get(':name')
  async read(@Param('name', NAME) name: string) {
    return this.management.read(name);
  }

  /** Creates the stream at the transmitter, or reads the one it holds. */
  @Post(':name')
  @HttpCode(200)
  async ensure(@Param('name', NAME) name: string) {
    const view = await this.management.ensure(name);
    this.audit('ssf.stream.ensure', name);
    return view;
  }

  @Post(':name/status')
  @HttpCode(200)
  async status(
    @Param('name', NAME) name: string,
    @Body(new ZodPipe(streamStatusInput)) body: StreamStatusInput,
  ) {
    const view = await this.management.setStatus(name, body.status, body.reason);
    this.audit('ssf.stream.status', name, { status: body.status });
    return view;
  }

  @Post(':name/verify')
  @HttpCode(202)
  async verify(
    @Param('name', NAME) name: string,
    @Body(new ZodPipe(verifyInput)) body: VerifyInput,
  ) {
    const sent = await this.management.requestVerification(name, body.state);
    this.audit('ssf.stream.verify', name);
    return { requested: true, ...sent };
  }

  @Post(':name/poll')
  @HttpCode(200)
  async poll(@Param('name', NAME) name: string) {
    return this.poller.poller.pollNow(name);
  }
}
