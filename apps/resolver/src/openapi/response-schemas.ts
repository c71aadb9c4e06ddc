import { z } from 'zod';
import { DIAGNOSIS_STEPS } from '@resolver/resolution';
import { REASON_CODES } from '@resolver/reasons';

/**
 * Response bodies of the HTTP surfaces, as zod schemas: the OpenAPI document is derived from
 * them (and from the request schemas that validate admin input), and the e2e suite checks real
 * answers against that document, so the schemas cannot drift from what is served.
 */

export const problemBody = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  reason: z.enum(REASON_CODES).optional(),
  detail: z.string().optional(),
  field: z.string().optional().describe('admin API: the input field that was refused'),
});

const isoTime = z.string().describe('RFC 3339');

export const userBody = z.object({
  id: z.string(),
  tenantId: z.string(),
  namespace: z
    .string()
    .describe(
      "whose identifiers email and username are: an issuer (its SCIM client's and JIT's users) or '' (the operator's)",
    ),
  kind: z.enum(['user', 'service']),
  email: z.string().nullable(),
  username: z.string().nullable(),
  displayName: z.string().nullable(),
  roles: z.array(z.string()),
  attributes: z.record(z.string(), z.unknown()),
  status: z.enum(['active', 'disabled', 'locked']),
  statusDecisions: z
    .partialRecord(
      z.enum(['operator', 'import', 'scim', 'jit', 'signals']),
      z.enum(['disabled', 'locked']),
    )
    .describe('the restrictions that stand, by writer: status is the strictest of them'),
  deletedAt: isoTime.nullable(),
  tokensValidAfter: isoTime.nullable(),
  provenance: z.enum(['admin', 'jit', 'scim', 'import']),
  createdAt: isoTime,
  updatedAt: isoTime,
});

export const userPageBody = z.object({
  users: z.array(userBody),
  nextCursor: z.string().optional(),
});

export const identityBody = z.object({
  id: z.string(),
  issuer: z.string(),
  tenant: z.string(),
  subject: z.string(),
  createdAt: isoTime,
});

export const identitiesBody = z.object({ identities: z.array(identityBody) });

export const importBody = z.object({
  dryRun: z.boolean(),
  results: z.array(
    z.object({
      row: z.number().int(),
      result: z.enum(['created', 'updated', 'rejected']),
      id: z.string().optional(),
      error: z.string().optional(),
    }),
  ),
});

export const revokedBody = z.object({ issuer: z.string(), jti: z.string(), expiresAt: isoTime });

export const auditBody = z.object({
  findings: z.array(
    z.object({
      table: z.enum(['external_identities', 'users']),
      field: z.enum(['subject', 'tenant', 'email', 'username']),
      userId: z.string(),
      identityId: z.string().optional(),
      issuer: z.string().optional(),
      value: z.string(),
      problem: z.string(),
      effect: z.string(),
      fix: z.string(),
    }),
  ),
  truncated: z.boolean(),
});

export const diagnosisBody = z.object({
  diagnosedAt: isoTime,
  verdict: z.object({
    reason: z.enum([...REASON_CODES, 'OK']),
    outcome: z.enum(['resolved', 'refused', 'unavailable']),
    httpStatus: z.number().int(),
    title: z.string(),
    source: z.enum(['CACHE', 'STORE', 'PROVISIONED']).optional(),
  }),
  steps: z.array(
    z.object({
      step: z.enum(DIAGNOSIS_STEPS),
      title: z.string(),
      status: z.enum(['pass', 'fail', 'warn', 'skip']),
      finding: z.string(),
      fix: z.string().optional(),
      unverified: z.boolean().optional(),
      details: z.record(z.string(), z.unknown()),
    }),
  ),
});
