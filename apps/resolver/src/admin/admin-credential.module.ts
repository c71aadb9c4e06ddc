import { Module } from '@nestjs/common';
import { AdminCredentialGuard } from './admin-credential.guard';

/**
 * The admin credential check, built once (it hashes the configured token) and shared by every
 * feature behind it: the admin API, the diagnosis and the console.
 */
@Module({ providers: [AdminCredentialGuard], exports: [AdminCredentialGuard] })
export class AdminCredentialModule {}
