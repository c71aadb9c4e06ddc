import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Inject,
  Param,
  Patch,
  Post,
  Put,
  Query,
  Req,
  Res,
  type Type,
  UseInterceptors,
} from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { type AdminChangeEntry, ResolverLogger } from '@resolver/observability';
import type { ScimCaller, ScimUsers } from '@resolver/provisioning';
import { ScimClientInterceptor, ScimOperation } from './scim-client.interceptor';
import {
  callerOf,
  type ScimRequest,
  searchQuery,
  sendFetched,
  sendList,
  sendResource,
} from './scim-response';

/** What a SCIM resource's use cases offer the transport: ScimUsers and ScimGroups alike. */
export type ScimResourceCases = Pick<
  ScimUsers,
  'create' | 'list' | 'get' | 'replace' | 'patch' | 'delete'
>;

export interface ScimResourceRoutes {
  /** The path below /scim/v2 (`Users`, `Groups`). */
  readonly path: string;
  /** The use cases, as a Nest provider token. */
  readonly cases: Type<ScimResourceCases>;
  /** The operation prefix of `resolver_scim_requests_total{operation}` (`users`, `groups`). */
  readonly operation: string;
  /** The audit line's action prefix (`scim.user`) and where it puts the resource id. */
  readonly audit: {
    readonly action: string;
    readonly id: (id: string) => Partial<AdminChangeEntry>;
  };
}

/**
 * The SCIM routes of one resource type (RFC 7644 §3: create, list, `.search`, get, replace,
 * patch, delete), thin: every decision is in the resource's use cases, and the two resource
 * types share this one translation instead of two copies of it.
 */
export function scimResourceController(routes: ScimResourceRoutes): Type<unknown> {
  const op = (name: string) => ScimOperation(`${routes.operation}.${name}`);

  @Controller(`scim/v2/${routes.path}`)
  @UseInterceptors(ScimClientInterceptor)
  class ScimResourceController {
    constructor(
      @Inject(routes.cases) private readonly cases: ScimResourceCases,
      private readonly log: ResolverLogger,
    ) {}

    /** One line per write: the client and the resource id, never the credential or the body. */
    private audit(caller: ScimCaller, action: string, id: string): void {
      this.log.logAdminChange({
        actor: `scim:${caller.client.id}`,
        action: `${routes.audit.action}.${action}`,
        ...routes.audit.id(id),
      });
    }

    @Post()
    @op('create')
    async create(
      @Req() req: ScimRequest,
      @Res() reply: FastifyReply,
      @Body() body: unknown,
      @Query() q: Record<string, string>,
    ) {
      const caller = callerOf(req);
      const out = await this.cases.create(caller, body);
      this.audit(caller, 'create', out.id);
      sendResource(reply, 201, out, q);
    }

    @Get()
    @op('list')
    async list(
      @Req() req: ScimRequest,
      @Res() reply: FastifyReply,
      @Query() q: Record<string, string>,
    ) {
      sendList(reply, await this.cases.list(callerOf(req), q), q);
    }

    @Post('.search')
    @HttpCode(200)
    @op('search')
    async search(
      @Req() req: ScimRequest,
      @Res() reply: FastifyReply,
      @Body() body: Record<string, unknown> | undefined,
    ) {
      const q = searchQuery(body);
      sendList(reply, await this.cases.list(callerOf(req), q), q);
    }

    @Get(':id')
    @op('get')
    async get(
      @Req() req: ScimRequest,
      @Res() reply: FastifyReply,
      @Param('id') id: string,
      @Query() q: Record<string, string>,
      @Headers('if-none-match') ifNoneMatch?: string,
    ) {
      sendFetched(reply, await this.cases.get(callerOf(req), id), q, ifNoneMatch);
    }

    @Put(':id')
    @op('replace')
    async replace(
      @Req() req: ScimRequest,
      @Res() reply: FastifyReply,
      @Param('id') id: string,
      @Body() body: unknown,
      @Query() q: Record<string, string>,
      @Headers('if-match') ifMatch?: string,
    ) {
      const caller = callerOf(req);
      const out = await this.cases.replace(caller, id, body, ifMatch);
      this.audit(caller, 'replace', out.id);
      sendResource(reply, 200, out, q);
    }

    @Patch(':id')
    @op('patch')
    async patch(
      @Req() req: ScimRequest,
      @Res() reply: FastifyReply,
      @Param('id') id: string,
      @Body() body: unknown,
      @Query() q: Record<string, string>,
      @Headers('if-match') ifMatch?: string,
    ) {
      const caller = callerOf(req);
      const out = await this.cases.patch(caller, id, body, ifMatch);
      this.audit(caller, 'patch', out.id);
      sendResource(reply, 200, out, q);
    }

    @Delete(':id')
    @op('delete')
    async remove(
      @Req() req: ScimRequest,
      @Res() reply: FastifyReply,
      @Param('id') id: string,
      @Headers('if-match') ifMatch?: string,
    ) {
      const caller = callerOf(req);
      await this.cases.delete(caller, id, ifMatch);
      this.audit(caller, 'delete', id);
      void reply.status(204).send();
    }
  }
  Object.defineProperty(ScimResourceController, 'name', { value: `Scim${routes.path}Controller` });
  return ScimResourceController;
}
