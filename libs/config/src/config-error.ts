/** A configuration problem found at boot. The message names the exact field. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Renders a path like `issuers[0].jit.map.email`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, part) => {
    if (typeof part === 'number') return `${out}[${part}]`;
    return out ? `${out}.${String(part)}` : String(part);
  }, '');
}
