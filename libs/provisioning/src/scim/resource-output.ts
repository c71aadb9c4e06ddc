import type { ScimGroupRow, ScimMember, ScimUserRow } from '@resolver/identity';
import { ENTERPRISE_SCHEMA, GROUP_SCHEMA, USER_SCHEMA } from './scim-schemas';

/** `meta.version`: the SCIM row's version, and the status when an operator changed it. */
export function userEtag(row: Pick<ScimUserRow, 'version' | 'status'>): string {
  return `W/"${row.version}${row.status === 'active' || row.status === 'disabled' ? '' : `-${row.status}`}"`;
}

export function groupEtag(row: Pick<ScimGroupRow, 'version'>): string {
  return `W/"${row.version}"`;
}

/** A stored user as a SCIM User resource. */
export function userResource(
  row: ScimUserRow,
  groups: readonly { id: string; displayName: string }[],
  baseUrl: string,
): Record<string, unknown> {
  const { [ENTERPRISE_SCHEMA]: enterprise, ...core } = row.resource as Record<string, unknown>;
  return {
    schemas: enterprise ? [USER_SCHEMA, ENTERPRISE_SCHEMA] : [USER_SCHEMA],
    id: row.userId,
    ...(row.externalId !== null ? { externalId: row.externalId } : {}),
    ...core,
    userName: row.userName,
    active: row.status === 'active',
    ...(groups.length
      ? {
          groups: groups.map((g) => ({
            value: g.id,
            display: g.displayName,
            $ref: `${baseUrl}/Groups/${g.id}`,
            type: 'direct',
          })),
        }
      : {}),
    ...(enterprise ? { [ENTERPRISE_SCHEMA]: enterprise } : {}),
    meta: {
      resourceType: 'User',
      created: row.createdAt.toISOString(),
      lastModified: row.updatedAt.toISOString(),
      location: `${baseUrl}/Users/${row.userId}`,
      version: userEtag(row),
    },
  };
}

/** A stored group as a SCIM Group resource. */
export function groupResource(
  row: ScimGroupRow,
  members: readonly ScimMember[],
  baseUrl: string,
): Record<string, unknown> {
  return {
    schemas: [GROUP_SCHEMA],
    id: row.id,
    ...(row.externalId !== null ? { externalId: row.externalId } : {}),
    displayName: row.displayName,
    members: members.map((m) => ({
      value: m.userId,
      display: m.display,
      $ref: `${baseUrl}/Users/${m.userId}`,
      type: 'User',
    })),
    meta: {
      resourceType: 'Group',
      created: row.createdAt.toISOString(),
      lastModified: row.updatedAt.toISOString(),
      location: `${baseUrl}/Groups/${row.id}`,
      version: groupEtag(row),
    },
  };
}

/**
 * `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5): names are case-insensitive and may be
 * sub-attributes (`name.givenName`) or fully qualified (`urn:...:User:userName`); `id` and
 * `schemas` are always returned.
 */
export function project(
  resource: Record<string, unknown>,
  attributes: readonly string[] | undefined,
  excluded: readonly string[] | undefined,
): Record<string, unknown> {
  const core = [USER_SCHEMA, GROUP_SCHEMA].map((s) => `${s.toLowerCase()}:`);
  const parse = (name: string): string[] => {
    let n = name.trim();
    const lower = n.toLowerCase();
    const prefix = core.find((c) => lower.startsWith(c));
    if (prefix) n = n.slice(prefix.length);
    else if (lower.startsWith(`${ENTERPRISE_SCHEMA.toLowerCase()}:`))
      return [
        ENTERPRISE_SCHEMA.toLowerCase(),
        ...n
          .slice(ENTERPRISE_SCHEMA.length + 1)
          .toLowerCase()
          .split('.'),
      ];
    else if (lower === ENTERPRISE_SCHEMA.toLowerCase()) return [lower];
    return n.toLowerCase().split('.');
  };
  const always = new Set(['id', 'schemas']);
  if (attributes?.length) {
    const wanted = attributes.map(parse);
    const pick = (obj: Record<string, unknown>, paths: string[][], depth: number) => {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(obj)) {
        const lk = k.toLowerCase();
        if (depth === 0 && always.has(lk)) {
          out[k] = v;
          continue;
        }
        const matching = paths.filter((p) => p[0] === lk);
        if (!matching.length) continue;
        if (matching.some((p) => p.length === 1)) out[k] = v;
        else {
          const rest = matching.map((p) => p.slice(1));
          if (Array.isArray(v))
            out[k] = (v as unknown[]).map((e) =>
              typeof e === 'object' && e ? pick(e as Record<string, unknown>, rest, depth + 1) : e,
            );
          else if (typeof v === 'object' && v)
            out[k] = pick(v as Record<string, unknown>, rest, depth + 1);
        }
      }
      return out;
    };
    return pick(resource, wanted, 0);
  }
  if (excluded?.length) {
    const drop = excluded.map(parse);
    const omit = (obj: Record<string, unknown>, paths: string[][], depth: number) => {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(obj)) {
        const lk = k.toLowerCase();
        const matching = paths.filter((p) => p[0] === lk);
        if (depth === 0 && always.has(lk)) out[k] = v;
        else if (matching.some((p) => p.length === 1)) continue;
        else if (!matching.length) out[k] = v;
        else {
          const rest = matching.map((p) => p.slice(1));
          if (Array.isArray(v))
            out[k] = (v as unknown[]).map((e) =>
              typeof e === 'object' && e ? omit(e as Record<string, unknown>, rest, depth + 1) : e,
            );
          else if (typeof v === 'object' && v)
            out[k] = omit(v as Record<string, unknown>, rest, depth + 1);
          else out[k] = v;
        }
      }
      return out;
    };
    return omit(resource, drop, 0);
  }
  return resource;
}
