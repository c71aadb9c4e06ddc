import { createHash, timingSafeEqual } from 'node:crypto';
import {
  type CanActivate,
  type ExecutionContext,
  Inject,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { RESOLVER_CONFIG, type ResolverConfig } from '@resolver/config';

/** The admin credential's `WWW-Authenticate` challenge, on every surface behind it. */
export const ADMIN_CHALLENGE = 'Bearer realm="resolver-admin"';

/**
 * The admin bearer credential, compared in constant time (both sides hashed first so lengths
 * leak nothing either). Routes guarded by it exist only when a credential is configured.
 */
@Injectable()
export class AdminCredentialGuard implements CanActivate {
  private readonly expected: Buffer | undefined;

  constructor(@Inject(RESOLVER_CONFIG) config: ResolverConfig) {
    this.expected = config.admin
      ? createHash('sha256').update(config.admin.token).digest()
      : undefined;
  }

  canActivate(context: ExecutionContext): boolean {
    this.check(context.switchToHttp().getRequest<FastifyRequest>().headers.authorization);
    return true;
  }

  /** Refuses (401, answered with {@link ADMIN_CHALLENGE}) unless `authorization` is accepted. */
  check(authorization: string | undefined): void {
    if (!this.accepts(authorization))
      throw new UnauthorizedException('a valid admin bearer credential is required');
  }

  /** True when `authorization` is `Bearer <the admin credential>` (also used for gRPC metadata). */
  accepts(authorization: string | undefined): boolean {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    const presented = createHash('sha256')
      .update(match?.[1] ?? '')
      .digest();
    return !!this.expected && !!match && timingSafeEqual(presented, this.expected);
  }
}
