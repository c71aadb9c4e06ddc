import { createHash } from 'node:crypto';
import { buildConfig, type ScimConfig } from '@resolver/config';
import { ScimConflict } from '@resolver/identity';
import { ScimError } from '../scim/scim-error';
import { ScimGroups } from '../scim/scim-groups';
import { ENTERPRISE_SCHEMA, PATCH_SCHEMA, USER_SCHEMA, GROUP_SCHEMA } from '../scim/scim-schemas';
import type { ScimCaller } from '../scim/scim-client';
import { ScimUsers } from '../scim/scim-users';
import { InMemoryScimStore } from '@resolver/identity/testing';

/** Okta's issuer: subjects are exact. */
export const OKTA = 'https://okta.unit.test/';
/** Entra's issuer: subjects are lower-cased by its policy. */
export const ENTRA = 'https://entra.unit.test/';
export const EMPLOYEE_NUMBER = `${ENTERPRISE_SCHEMA}:employeeNumber`;
export const BASE = 'https://resolver.unit.test/scim/v2';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * The SCIM configuration the use cases' specs run with, built through the real config schema:
 * three clients, each its own (issuer, tenant) scope and subject attribute.
 * - `okta` (OKTA, no tenant): the subject is externalId; groups map to roles;
 * - `entra` (ENTRA, no tenant): the subject is userName, lower-cased by the issuer's policy;
 * - `acme` (OKTA, tenant acme): the subject is the enterprise employeeNumber.
 */
export const SCIM_CONFIG: ScimConfig = buildConfig(
  {
    database: { url: 'postgres://unused/unused' },
    logging: { level: 'silent' },
    issuers: [
      { issuer: OKTA, hmacSecretEnv: 'UNIT_SECRET', algorithms: ['HS256'], audiences: ['api'] },
      {
        issuer: ENTRA,
        hmacSecretEnv: 'UNIT_SECRET',
        algorithms: ['HS256'],
        audiences: ['api'],
        subject: { normalize: { lowercase: true } },
      },
    ],
    scim: {
      maxResults: 5,
      maxOperations: 10,
      maxMembersPerGroup: 3,
      clients: [
        {
          id: 'okta',
          tokenSha256: sha256('okta-credential'),
          issuer: OKTA,
          groupRoles: { Engineering: ['eng'], admins: ['admin', 'eng'], Sales: ['sales'] },
        },
        {
          id: 'entra',
          tokenSha256: sha256('entra-credential'),
          issuer: ENTRA,
          subjectAttribute: 'userName',
        },
        {
          id: 'acme',
          tokenSha256: sha256('acme-credential'),
          issuer: OKTA,
          tenant: 'acme',
          subjectAttribute: EMPLOYEE_NUMBER,
        },
      ],
    },
  },
  { UNIT_SECRET: 'a-unit-test-hmac-secret-of-32-bytes-or-more' },
  { source: 'unit', baseDir: '/' },
).scim;

const caller = (id: string): ScimCaller => {
  const client = SCIM_CONFIG.clients.find((c) => c.id === id);
  if (!client) throw new Error(`no client ${id}`);
  return { client, baseUrl: BASE };
};
export const okta = caller('okta');
export const entra = caller('entra');
export const acme = caller('acme');

/** A fresh store and both use cases over it. */
export function scimWorld() {
  const store = new InMemoryScimStore();
  return {
    store,
    users: new ScimUsers(store, SCIM_CONFIG),
    groups: new ScimGroups(store, SCIM_CONFIG),
  };
}

/** A SCIM User body (core schema) with `fields` on top. */
export const userBody = (userName: string, fields: Record<string, unknown> = {}) => ({
  schemas: [USER_SCHEMA],
  userName,
  ...fields,
});

export const groupBody = (displayName: string, members: string[] = [], fields = {}) => ({
  schemas: [GROUP_SCHEMA],
  displayName,
  members: members.map((value) => ({ value })),
  ...fields,
});

/** A PatchOp body. */
export const patchBody = (...Operations: { op: string; path?: string; value?: unknown }[]) => ({
  schemas: [PATCH_SCHEMA],
  Operations,
});

/**
 * How a call was refused: `code/scimType: detail` for a ScimError, `ScimConflict: attribute` for
 * a unique index the store met (the app renders both as 409 uniqueness). Fails the test when the
 * call succeeds or throws anything else. Takes a thunk: some refusals (a bad body, a bad list
 * query) are thrown before any promise exists.
 */
export async function refusal(call: () => Promise<unknown>): Promise<string> {
  let error: unknown;
  try {
    await call();
  } catch (e) {
    error = e;
  }
  if (error instanceof ScimError) return `${error.code}/${error.scimType ?? '-'}: ${error.detail}`;
  if (error instanceof ScimConflict) return `ScimConflict: ${error.attribute}`;
  throw new Error('expected a SCIM refusal', { cause: error ?? 'success' });
}
