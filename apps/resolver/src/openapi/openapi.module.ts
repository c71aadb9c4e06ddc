import { Module } from '@nestjs/common';
import { OpenApiController } from './openapi.controller';

/** The OpenAPI document of the HTTP surface, at /openapi.json. */
@Module({ controllers: [OpenApiController] })
export class OpenApiModule {}
