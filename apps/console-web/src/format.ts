import { absoluteTime, relativeTime } from './decode';

/** An RFC 3339 instant from the API as "2026-01-01T00:00:00Z (3 h ago)", or an em dash. */
export function when(iso: string | null | undefined, now = new Date()): string {
  if (!iso) return '—';
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? iso : `${absoluteTime(at)} (${relativeTime(at, now)})`;
}

/** The name an operator knows a user by. */
export function userName(u: { email: string | null; username: string | null; id: string }): string {
  return u.email ?? u.username ?? u.id;
}
