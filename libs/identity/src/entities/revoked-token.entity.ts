import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** `revoked_tokens`: the `jti` deny-list; rows are purged once the token would have expired. */
@Entity({ name: 'revoked_tokens' })
export class RevokedTokenEntity {
  @PrimaryColumn({ type: 'text' }) issuer!: string;
  @PrimaryColumn({ type: 'text' }) jti!: string;
  @Column({ name: 'expires_at', type: 'timestamptz' }) expiresAt!: Date;
  @CreateDateColumn({ name: 'revoked_at', type: 'timestamptz' }) revokedAt!: Date;
}
