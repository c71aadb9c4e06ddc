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
  UseFilters,
  UseInterceptors,
} from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ResolverLogger } from '@resolver/observability';
import { project, type ScimCaller, type ScimListRequest, ScimGroups } from '@resolver/provisioning';
import { ScimClientInterceptor, ScimOperation } from './scim-client.interceptor';
import { ScimErrorFilter } from './scim-error.filter';
import { type ScimRequest, sendScim } from './scim-response';
import { attributeList, callerOf } from './scim-users.controller';

/** /scim/v2/Groups: thin — every decision is in {@link ScimGroups}. */
@Controller('scim/v2/Groups')
@UseInterceptors(ScimClientInterceptor)
@UseFilters(ScimErrorFilter)
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
    const location = (out.resource.meta as { location: string }).location;
    sendScim(
      reply,
      201,
      project(out.resource, attributeList(q.attributes), attributeList(q.excludedAttributes)),
      out.etag,
      location,
    );
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
    const b = body ?? {};
    const join = (v: unknown) => (Array.isArray(v) ? v.join(',') : (v as string | undefined));
    await this.sendList(req, reply, {
      ...(b as ScimListRequest),
      attributes: join(b.attributes),
      excludedAttributes: join(b.excludedAttributes),
    } as Record<string, string>);
  }

  private async sendList(req: ScimRequest, reply: FastifyReply, q: Record<string, string>) {
    const list = await this.groups.list(callerOf(req), q);
    const attrs = attributeList(q.attributes);
    const excluded = attributeList(q.excludedAttributes);
    list.Resources = (list.Resources as Record<string, unknown>[]).map((r) =>
      project(r, attrs, excluded),
    );
    sendScim(reply, 200, list);
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
    if (ifNoneMatch !== undefined && ifNoneMatch.split(',').some((t) => t.trim() === out.etag))
      return void reply.status(304).header('etag', out.etag).send();
    sendScim(
      reply,
      200,
      project(out.resource, attributeList(q.attributes), attributeList(q.excludedAttributes)),
      out.etag,
    );
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
    sendScim(
      reply,
      200,
      project(out.resource, attributeList(q.attributes), attributeList(q.excludedAttributes)),
      out.etag,
    );
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
    sendScim(
      reply,
      200,
      project(out.resource, attributeList(q.attributes), attributeList(q.excludedAttributes)),
      out.etag,
    );
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
