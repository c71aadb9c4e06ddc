import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  Patch,
  Post,
  Put,
  Query,
  Req,
  Res,
  UseInterceptors,
} from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ResolverLogger } from '@resolver/observability';
import { type ScimCaller, ScimUsers } from '@resolver/provisioning';
import { ScimClientInterceptor, ScimOperation } from './scim-client.interceptor';
import {
  callerOf,
  type ScimRequest,
  searchQuery,
  sendFetched,
  sendList,
  sendResource,
} from './scim-response';

/** /scim/v2/Users: thin — every decision is in {@link ScimUsers}. */
@Controller('scim/v2/Users')
@UseInterceptors(ScimClientInterceptor)
export class ScimUsersController {
  constructor(
    private readonly users: ScimUsers,
    private readonly log: ResolverLogger,
  ) {}

  /** One line per write: the client and the user id, never the credential or the body. */
  private audit(caller: ScimCaller, action: string, userId: string): void {
    this.log.logAdminChange({ actor: `scim:${caller.client.id}`, action, userId });
  }

  @Post()
  @ScimOperation('users.create')
  async create(
    @Req() req: ScimRequest,
    @Res() reply: FastifyReply,
    @Body() body: unknown,
    @Query() q: Record<string, string>,
  ) {
    const caller = callerOf(req);
    const out = await this.users.create(caller, body);
    this.audit(caller, 'scim.user.create', out.id);
    sendResource(reply, 201, out, q);
  }

  @Get()
  @ScimOperation('users.list')
  async list(
    @Req() req: ScimRequest,
    @Res() reply: FastifyReply,
    @Query() q: Record<string, string>,
  ) {
    await this.sendList(req, reply, q);
  }

  @Post('.search')
  @HttpCode(200)
  @ScimOperation('users.search')
  async search(
    @Req() req: ScimRequest,
    @Res() reply: FastifyReply,
    @Body() body: Record<string, unknown> | undefined,
  ) {
    await this.sendList(req, reply, searchQuery(body));
  }

  private async sendList(req: ScimRequest, reply: FastifyReply, q: Record<string, string>) {
    sendList(reply, await this.users.list(callerOf(req), q), q);
  }

  @Get(':id')
  @ScimOperation('users.get')
  async get(
    @Req() req: ScimRequest,
    @Res() reply: FastifyReply,
    @Param('id') id: string,
    @Query() q: Record<string, string>,
    @Headers('if-none-match') ifNoneMatch?: string,
  ) {
    const out = await this.users.get(callerOf(req), id);
    sendFetched(reply, out, q, ifNoneMatch);
  }

  @Put(':id')
  @ScimOperation('users.replace')
  async replace(
    @Req() req: ScimRequest,
    @Res() reply: FastifyReply,
    @Param('id') id: string,
    @Body() body: unknown,
    @Query() q: Record<string, string>,
    @Headers('if-match') ifMatch?: string,
  ) {
    const caller = callerOf(req);
    const out = await this.users.replace(caller, id, body, ifMatch);
    this.audit(caller, 'scim.user.replace', out.id);
    sendResource(reply, 200, out, q);
  }

  @Patch(':id')
  @ScimOperation('users.patch')
  async patch(
    @Req() req: ScimRequest,
    @Res() reply: FastifyReply,
    @Param('id') id: string,
    @Body() body: unknown,
    @Query() q: Record<string, string>,
    @Headers('if-match') ifMatch?: string,
  ) {
    const caller = callerOf(req);
    const out = await this.users.patch(caller, id, body, ifMatch);
    this.audit(caller, 'scim.user.patch', out.id);
    sendResource(reply, 200, out, q);
  }

  @Delete(':id')
  @ScimOperation('users.delete')
  async remove(
    @Req() req: ScimRequest,
    @Res() reply: FastifyReply,
    @Param('id') id: string,
    @Headers('if-match') ifMatch?: string,
  ) {
    const caller = callerOf(req);
    await this.users.delete(caller, id, ifMatch);
    this.audit(caller, 'scim.user.delete', id);
    void reply.status(204).send();
  }
}
