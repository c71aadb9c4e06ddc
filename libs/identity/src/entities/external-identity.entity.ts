import {
  Column,
  CreateDateColumn,
  Entity,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  Unique,
} from 'typeorm';
import { UserEntity } from './user.entity';

/** `external_identities`: the federated mapping (issuer, tenant, subject) -> user. */
@Entity({ name: 'external_identities' })
@Unique('external_identities_key', ['issuer', 'tenant', 'subject'])
export class ExternalIdentityEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'text' }) issuer!: string;
  @Column({ type: 'text', default: '' }) tenant!: string;
  @Column({ type: 'text' }) subject!: string;
  @Column({ name: 'user_id', type: 'uuid' }) userId!: string;
  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: UserEntity;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
