import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Patch,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import { RESOLVER_CONFIG, type ResolverConfig } from '@resolver/config';
import { IdentifierAudit, type UserRecord } from '@resolver/identity';
import { ResolverLogger } from '@resolver/observability';
import {
  type CreateUserInput,
  createUserInput,
  idParam,
  type IdentityInput,
  identityInput,
  type ImportInput,
  importInput,
  type ListUsersInput,
  auditIdentifiersInput,
  type AuditIdentifiersInput,
  listUsersInput,
  type RevokeInput,
  revokeInput,
  type UpdateUserInput,
  updateUserInput,
  UserAdministration,
  UserImport,
} from '@resolver/provisioning';
import { AdminCredentialGuard } from '../shared/admin-credential.guard';
import { ZodPipe } from '../shared/zod.pipe';

/** A user or identity id in the path, checked at the edge (400 naming the parameter). */
const ID = new ZodPipe(idParam);

/** JSON shape of a user in the admin API. */
function userJson(u: UserRecord) {
  // `signals` (what shared signals did) is the resolver's own bookkeeping: diagnose explains it.
  return { ...u, tenantId: u.tenant, tenant: undefined, signals: undefined };
}

/**
 * /admin/v1: users, external identities, token revocation, cache flush. Thin: inputs are
 * validated here by their zod schemas ({@link ZodPipe}); every decision is in
 * {@link UserAdministration} and {@link UserImport}; cache invalidation follows from the
 * database triggers.
 */
@Controller('admin/v1')
@UseGuards(AdminCredentialGuard)
export class AdminController {
  /** Issuers that compare non-NFC subjects as sent: the audit does not flag theirs. */
  private readonly nfcExempt: ReadonlySet<string>;

  constructor(
    private readonly admin: UserAdministration,
    private readonly importer: UserImport,
    private readonly identifierAudit: IdentifierAudit,
    private readonly log: ResolverLogger,
    @Inject(RESOLVER_CONFIG) config: ResolverConfig,
  ) {
    this.nfcExempt = new Set(
      config.issuers.filter((i) => !i.subject.normalize.nfc).map((i) => i.issuer),
    );
  }

  /** The structured admin-change line (one per change), through the shared logger. */
  private audit(action: string, userId?: string, detail?: Record<string, string | number>): void {
    this.log.logAdminChange({ actor: 'admin-api', action, userId, detail });
  }

  @Post('users')
  async create(@Body(new ZodPipe(createUserInput)) body: CreateUserInput) {
    const user = await this.admin.create(body);
    this.audit('user.create', user.id);
    return userJson(user);
  }

  @Get('users')
  async list(@Query(new ZodPipe(listUsersInput)) query: ListUsersInput) {
    const page = await this.admin.list(query);
    return { users: page.users.map(userJson), nextCursor: page.nextCursor };
  }

  @Post('users/import')
  @HttpCode(200)
  async import(@Body(new ZodPipe(importInput)) { rows, dryRun }: ImportInput) {
    const results = await this.importer.import(rows, { dryRun });
    if (!dryRun) this.audit('user.import', undefined, { rows: results.length });
    return { dryRun, results };
  }

  @Get('users/:id')
  async get(@Param('id', ID) id: string) {
    return userJson(await this.admin.get(id));
  }

  @Patch('users/:id')
  async update(
    @Param('id', ID) id: string,
    @Body(new ZodPipe(updateUserInput)) body: UpdateUserInput,
  ) {
    const user = await this.admin.update(id, body);
    this.audit('user.update', id);
    return userJson(user);
  }

  @Post('users/:id/disable')
  @HttpCode(200)
  async disable(@Param('id', ID) id: string) {
    const user = await this.admin.setStatus(id, 'disabled');
    this.audit('user.disable', id);
    return userJson(user);
  }

  @Post('users/:id/enable')
  @HttpCode(200)
  async enable(@Param('id', ID) id: string) {
    const user = await this.admin.setStatus(id, 'active');
    this.audit('user.enable', id);
    return userJson(user);
  }

  @Post('users/:id/lock')
  @HttpCode(200)
  async lock(@Param('id', ID) id: string) {
    const user = await this.admin.setStatus(id, 'locked');
    this.audit('user.lock', id);
    return userJson(user);
  }

  @Post('users/:id/unlock')
  @HttpCode(200)
  async unlock(@Param('id', ID) id: string) {
    const user = await this.admin.setStatus(id, 'unlocked');
    this.audit('user.unlock', id);
    return userJson(user);
  }

  @Post('users/:id/delete')
  @HttpCode(200)
  async delete(@Param('id', ID) id: string) {
    const user = await this.admin.softDelete(id);
    this.audit('user.delete', id);
    return userJson(user);
  }

  @Post('users/:id/restore')
  @HttpCode(200)
  async restore(@Param('id', ID) id: string) {
    const user = await this.admin.restore(id);
    this.audit('user.restore', id);
    return userJson(user);
  }

  @Post('users/:id/sign-out')
  @HttpCode(200)
  async signOut(@Param('id', ID) id: string) {
    const user = await this.admin.signOutEverywhere(id);
    this.audit('user.sign-out', id);
    return userJson(user);
  }

  @Delete('users/:id')
  async remove(@Param('id', ID) id: string) {
    const user = await this.admin.softDelete(id);
    this.audit('user.delete', id);
    return userJson(user);
  }

  @Get('users/:id/identities')
  async identities(@Param('id', ID) id: string) {
    return { identities: await this.admin.identities(id) };
  }

  @Post('users/:id/identities')
  async link(@Param('id', ID) id: string, @Body(new ZodPipe(identityInput)) body: IdentityInput) {
    const identity = await this.admin.link(id, body);
    this.audit('identity.link', id);
    return identity;
  }

  @Delete('users/:id/identities/:identityId')
  @HttpCode(204)
  async unlink(@Param('id', ID) id: string, @Param('identityId', ID) identityId: string) {
    await this.admin.unlink(id, identityId);
    this.audit('identity.unlink', id);
  }

  @Post('tokens/revoke')
  @HttpCode(200)
  async revoke(@Body(new ZodPipe(revokeInput)) body: RevokeInput) {
    const revoked = await this.admin.revoke(body);
    this.audit('token.revoke', undefined, { issuer: revoked.issuer });
    return revoked;
  }

  /** Stored identifiers the canonical rules refuse in a token (docs/security-model.md). */
  @Get('audit/identifiers')
  async auditIdentifiers(
    @Query(new ZodPipe(auditIdentifiersInput)) { limit }: AuditIdentifiersInput,
  ) {
    return this.identifierAudit.run({ limit, nfcExempt: this.nfcExempt });
  }

  @Post('caches/flush')
  @HttpCode(202)
  async flush() {
    await this.admin.flushCaches();
    this.audit('caches.flush');
    return { flushed: true };
  }
}
