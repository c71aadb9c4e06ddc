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
import { project, type ScimCaller, type ScimListRequest, ScimUsers } from '@resolver/provisioning';
import { ScimClientInterceptor, ScimOperation } from './scim-client.interceptor';
import { ScimErrorFilter } from './scim-error.filter';
import { type ScimRequest, sendScim } from './scim-response';

/** `attributes=a,b` / `excludedAttributes=c` as lists. */
export function attributeList(value: unknown): string[] | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  return value
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
}

export function callerOf(request: ScimRequest): ScimCaller {
  return request.scimCaller as ScimCaller;
}

/** /scim/v2/Users: thin — every decision is in {@link ScimUsers}. */
@Controller('scim/v2/Users')
@UseInterceptors(ScimClientInterceptor)
@UseFilters(ScimErrorFilter)
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
    const b = body ?? {};
    const join = (v: unknown) => (Array.isArray(v) ? v.join(',') : (v as string | undefined));
    await this.sendList(req, reply, {
      ...(b as ScimListRequest),
      attributes: join(b.attributes),
      excludedAttributes: join(b.excludedAttributes),
    } as Record<string, string>);
  }

  private async sendList(req: ScimRequest, reply: FastifyReply, q: Record<string, string>) {
    const list = await this.users.list(callerOf(req), q);
    const attrs = attributeList(q.attributes);
    const excluded = attributeList(q.excludedAttributes);
    list.Resources = (list.Resources as Record<string, unknown>[]).map((r) =>
      project(r, attrs, excluded),
    );
    sendScim(reply, 200, list);
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
    sendScim(
      reply,
      200,
      project(out.resource, attributeList(q.attributes), attributeList(q.excludedAttributes)),
      out.etag,
    );
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
    sendScim(
      reply,
      200,
      project(out.resource, attributeList(q.attributes), attributeList(q.excludedAttributes)),
      out.etag,
    );
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
