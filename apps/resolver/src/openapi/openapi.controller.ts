import { Controller, Get, Header } from '@nestjs/common';
import { buildOpenApiDocument } from './openapi-document';

/** GET /openapi.json: the OpenAPI 3.1 document of the HTTP surfaces, built once at boot. */
@Controller()
export class OpenApiController {
  private readonly document = buildOpenApiDocument('1');

  @Get('openapi.json')
  @Header('cache-control', 'public, max-age=300')
  openapi() {
    return this.document;
  }
}
