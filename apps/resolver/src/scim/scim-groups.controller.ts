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
import { type ScimCaller, ScimGroups } from '@resolver/provisioning';
import { ScimClientInterceptor, ScimOperation } from './scim-client.interceptor';
import {
  callerOf,
  type ScimRequest,
  searchQuery,
  sendFetched,
  sendList,
  sendResource,
} from './scim-response';

/** /scim/v2/Groups: thin — every decision is in {@link ScimGroups}. */
@Controller('scim/v2/Groups')
@UseInterceptors(ScimClientInterceptor)
export class ScimGroupsController {
  constructor(
    private readonly groups: ScimGroups,
    private readonly log: ResolverLogger,
  ) {}

  /** One line per write: the client and the group id, never the credential or the body. */
  private audit(caller: ScimCaller, action: string, groupId: string): void {
    this.log.logAdminChange({ actor: `scim:${caller.client.id}`, action, detail: { groupId } });
  }

  @Post()
  @ScimOperation('groups.create')
  async create(
    @Req() req: ScimRequest,
    @Res() reply: FastifyReply,
    @Body() body: unknown,
    @Query() q: Record<string, string>,
  ) {
    const caller = callerOf(req);
    const out = await this.groups.create(caller, body);
    this.audit(caller, 'scim.group.create', out.id);
    sendResource(reply, 201, out, q);
  }

  @Get()
  @ScimOperation('groups.list')
  async list(
    @Req() req: ScimRequest,
    @Res() reply: FastifyReply,
    @Query() q: Record<string, string>,
  ) {
    await this.sendList(req, reply, q);
  }

  @Post('.search')
  @HttpCode(200)
  @ScimOperation('groups.search')
  async search(
    @Req() req: ScimRequest,
    @Res() reply: FastifyReply,
    @Body() body: Record<string, unknown> | undefined,
  ) {
    await this.sendList(req, reply, searchQuery(body));
  }

  private async sendList(req: ScimRequest, reply: FastifyReply, q: Record<string, string>) {
    sendList(reply, await this.groups.list(callerOf(req), q), q);
  }

  @Get(':id')
  @ScimOperation('groups.get')
  async get(
    @Req() req: ScimRequest,
    @Res() reply: FastifyReply,
    @Param('id') id: string,
    @Query() q: Record<string, string>,
    @Headers('if-none-match') ifNoneMatch?: string,
  ) {
    const out = await this.groups.get(callerOf(req), id);
    sendFetched(reply, out, q, ifNoneMatch);
  }

  @Put(':id')
  @ScimOperation('groups.replace')
  async replace(
    @Req() req: ScimRequest,
    @Res() reply: FastifyReply,
    @Param('id') id: string,
    @Body() body: unknown,
    @Query() q: Record<string, string>,
    @Headers('if-match') ifMatch?: string,
  ) {
    const caller = callerOf(req);
    const out = await this.groups.replace(caller, id, body, ifMatch);
    this.audit(caller, 'scim.group.replace', out.id);
    sendResource(reply, 200, out, q);
  }

  @Patch(':id')
  @ScimOperation('groups.patch')
  async patch(
    @Req() req: ScimRequest,
    @Res() reply: FastifyReply,
    @Param('id') id: string,
    @Body() body: unknown,
    @Query() q: Record<string, string>,
    @Headers('if-match') ifMatch?: string,
  ) {
    const caller = callerOf(req);
    const out = await this.groups.patch(caller, id, body, ifMatch);
    this.audit(caller, 'scim.group.patch', out.id);
    sendResource(reply, 200, out, q);
  }

  @Delete(':id')
  @ScimOperation('groups.delete')
  async remove(
    @Req() req: ScimRequest,
    @Res() reply: FastifyReply,
    @Param('id') id: string,
    @Headers('if-match') ifMatch?: string,
  ) {
    const caller = callerOf(req);
    await this.groups.delete(caller, id, ifMatch);
    this.audit(caller, 'scim.group.delete', id);
    void reply.status(204).send();
  }
}
