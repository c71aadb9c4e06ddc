import { Controller, Get, Param, Post, Req, Res, UseInterceptors } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ScimDiscovery, ScimError } from '@resolver/provisioning';
import { ScimClientInterceptor, ScimOperation } from './scim-client.interceptor';
import { callerOf, type ScimRequest, sendScim } from './scim-response';

/** /scim/v2 discovery (RFC 7644 §4), behind the same client credential as the resources. */
@Controller('scim/v2')
@UseInterceptors(ScimClientInterceptor)
export class ScimDiscoveryController {
  constructor(private readonly discovery: ScimDiscovery) {}

  /**
   * A query at the server root (RFC 7644 §3.4.2, §3.4.3: optional) would page Users and Groups
   * as one list; this service provider does not, and says so with 501 (RFC 7644 §3.12).
   */
  @Get()
  @ScimOperation('root.query')
  rootQuery(): never {
    throw rootUnsupported('GET /scim/v2');
  }

  @Post('.search')
  @ScimOperation('root.search')
  rootSearch(): never {
    throw rootUnsupported('POST /scim/v2/.search');
  }

  @Get('ServiceProviderConfig')
  @ScimOperation('discovery.serviceProviderConfig')
  config(@Req() req: ScimRequest, @Res() reply: FastifyReply) {
    sendScim(reply, 200, this.discovery.serviceProviderConfig(callerOf(req).baseUrl));
  }

  @Get('ResourceTypes')
  @ScimOperation('discovery.resourceTypes')
  resourceTypes(@Req() req: ScimRequest, @Res() reply: FastifyReply) {
    sendScim(reply, 200, this.discovery.resourceTypes(callerOf(req).baseUrl));
  }

  @Get('ResourceTypes/:id')
  @ScimOperation('discovery.resourceTypes')
  resourceType(@Req() req: ScimRequest, @Res() reply: FastifyReply, @Param('id') id: string) {
    sendScim(reply, 200, this.discovery.resourceType(id, callerOf(req).baseUrl));
  }

  @Get('Schemas')
  @ScimOperation('discovery.schemas')
  schemas(@Req() req: ScimRequest, @Res() reply: FastifyReply) {
    sendScim(reply, 200, this.discovery.schemas(callerOf(req).baseUrl));
  }

  @Get('Schemas/:id')
  @ScimOperation('discovery.schemas')
  schema(@Req() req: ScimRequest, @Res() reply: FastifyReply, @Param('id') id: string) {
    sendScim(reply, 200, this.discovery.schema(id, callerOf(req).baseUrl));
  }
}

const rootUnsupported = (what: string) =>
  new ScimError(
    'notImplemented',
    `${what}: searching across resource types at the root is not supported; query /Users or /Groups (GET with filter=, or POST /Users/.search, /Groups/.search)`,
  );
