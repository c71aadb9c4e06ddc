const UNIT_SECONDS = { s: 1, m: 60, h: 3_600, d: 86_400 } as const;

/**
 * A point in time on the command line: relative to `now` (`+1h`, `-5m`, `30s`, `+2d`; no sign
 * means the future), an ISO 8601 date-time (`2027-01-01T00:00:00Z`), or Unix seconds
 * (`1767225600`). Returns whole seconds since the epoch, or undefined when unreadable.
 */
export function parseTimeArg(value: string, nowSeconds: number): number | undefined {
  const relative = /^([+-]?)(\d+)([smhd])$/.exec(value.trim());
  if (relative) {
    const [, sign, amount, unit] = relative;
    const seconds = Number(amount) * UNIT_SECONDS[unit as keyof typeof UNIT_SECONDS];
    return nowSeconds + (sign === '-' ? -seconds : seconds);
  }
  if (/^\d{9,11}$/.test(value.trim())) return Number(value.trim());
  // Only a full date-time with a zone: a bare date would depend on the local time zone.
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value.trim())) {
    const ms = Date.parse(value.trim());
    return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
  }
  return undefined;
}

export const TIME_ARG_HELP =
  '+1h, -5m, 30s, +2d (relative to now), 2027-01-01T00:00:00Z, or Unix seconds';

/**
 * `--exp -5m` as `--exp=-5m`: node's parseArgs takes a value that starts with a dash for an
 * option and refuses it, but a negative relative time is exactly what a refusal example needs.
 */
export function joinNegativeTimes(args: readonly string[], options: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const next = args[i + 1];
    if (options.includes(arg) && next !== undefined && /^-\d/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}
