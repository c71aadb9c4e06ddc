/** Building blocks of the OpenAPI document: references, problem answers, admin security, parameters. */
import type { z } from 'zod';
import { PROBLEM_CONTENT_TYPE } from '../shared/errors/problem';
import { jsonSchemaOf } from '../shared/json-schema';

/** A JSON object of the document. */
export type Json = Record<string, unknown>;

export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
export const json = (schema: Json) => ({ 'application/json': { schema } });
export const problem = (description: string) => ({
  description,
  content: { [PROBLEM_CONTENT_TYPE]: { schema: ref('Problem') } },
});

/** The refusals every token-taking route can answer, from the reason table. */
export const REFUSALS = {
  401: problem(
    'refused: a token, proof or user reason (TOKEN_*, SUBJECT_*, PROOF_*, BINDING_MISMATCH, USER_NOT_FOUND, …); WWW-Authenticate: Bearer and/or DPoP',
  ),
  403: problem('refused: USER_DISABLED, USER_LOCKED or USER_DELETED'),
  503: problem(
    'USER_STORE_UNAVAILABLE or KEYS_UNAVAILABLE (Retry-After: 1), USER_STORE_OVERLOADED (Retry-After: 2)',
  ),
};

/** The admin routes' own answers: the field that was refused, missing ids, conflicts. */
export const ADMIN_ERRORS = {
  400: problem('invalid input: `field` names it'),
  401: problem('the admin credential is missing or wrong'),
  404: problem('no such user or identity (or the admin API is disabled)'),
  409: problem('conflict: a live user already holds the email, username or identity'),
  503: problem('the user store is unavailable'),
};

export const ADMIN = [{ adminBearer: [] as string[] }];
export const userId = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string', format: 'uuid' },
};

export function body(schema: Json, required = true) {
  return { required, content: json(schema) };
}

export function op(summary: string, extra: Json): Json {
  return { summary, ...extra };
}

/** Query parameters from a zod object schema (the one that validates the query). */
export function queryParameters(schema: z.ZodType): Json[] {
  const s = jsonSchemaOf(schema, 'input') as {
    properties?: Record<string, Json>;
    required?: string[];
  };
  return Object.entries(s.properties ?? {}).map(([name, p]) => ({
    name,
    in: 'query',
    required: s.required?.includes(name) ?? false,
    schema: p,
  }));
}

export const lifecycle = (verb: string, what: string): Json => ({
  post: op(what, {
    tags: ['admin'],
    security: ADMIN,
    parameters: [userId],
    responses: {
      200: { description: 'the user after the change', content: json(ref('User')) },
      ...ADMIN_ERRORS,
    },
    operationId: `user${verb}`,
  }),
});
