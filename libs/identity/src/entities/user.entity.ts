import {
  Column,
  CreateDateColumn,
  Entity,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import type { PrincipalKind, Provenance, StatusDecisions, UserStatus } from '../user';
import type { SignalState } from '@resolver/policy';

/** `users`: the application's own record of a principal. Schema lives in the migrations. */
@Entity({ name: 'users' })
export class UserEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'text', default: '' }) tenant!: string;
  @Column({ type: 'text', default: '' }) namespace!: string;
  @Column({ type: 'text', default: 'user' }) kind!: PrincipalKind;
  @Column({ type: 'text', nullable: true }) email!: string | null;
  @Column({ type: 'text', nullable: true }) username!: string | null;
  @Column({ name: 'display_name', type: 'text', nullable: true }) displayName!: string | null;
  @Column({ type: 'text', array: true, default: '{}' }) roles!: string[];
  @Column({ type: 'jsonb', default: {} }) attributes!: Record<string, unknown>;
  @Column({ type: 'text', default: 'active' }) status!: UserStatus;
  @Column({ name: 'status_decisions', type: 'jsonb', default: {} })
  statusDecisions!: StatusDecisions;
  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true }) deletedAt!: Date | null;
  @Column({ name: 'tokens_valid_after', type: 'timestamptz', nullable: true })
  tokensValidAfter!: Date | null;
  @Column({ type: 'jsonb', default: {} }) signals!: SignalState;
  @Column({ type: 'text', default: 'admin' }) provenance!: Provenance;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
