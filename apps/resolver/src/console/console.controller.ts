import {
  Controller,
  Get,
  NotFoundException,
  Param,
  Res,
  ServiceUnavailableException,
} from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ConsoleAssets } from './console-assets';
import { CONSOLE_COMMON_HEADERS, CONSOLE_CSP, IMMUTABLE } from './console-headers';

/**
 * The operator console's static side: the index page (strict CSP, never cached, so a new build
 * is picked up at once) and its content-hashed assets (cached for a year). Unauthenticated like
 * any login page: it holds no data; everything it shows comes from admin-guarded JSON fetched
 * with the credential the operator types in.
 */
@Controller('console')
export class ConsoleController {
  constructor(private readonly assets: ConsoleAssets) {}

  @Get()
  index(@Res() reply: FastifyReply): void {
    const index = this.assets.index;
    if (!index) {
      throw new ServiceUnavailableException(
        'the console was not built: run `npm run build` (it bundles apps/console-web)',
      );
    }
    void reply
      .headers({
        ...CONSOLE_COMMON_HEADERS,
        'content-security-policy': CONSOLE_CSP,
        'cache-control': 'no-store',
        'content-type': 'text/html; charset=utf-8',
      })
      .send(index);
  }

  @Get('assets/:name')
  asset(@Param('name') name: string, @Res() reply: FastifyReply): void {
    const asset = this.assets.asset(name);
    if (!asset) throw new NotFoundException('no such console asset');
    void reply
      .headers({
        ...CONSOLE_COMMON_HEADERS,
        'cache-control': IMMUTABLE,
        'content-type': asset.contentType,
      })
      .send(asset.body);
  }
}
