import type { ResolverConfig } from '@resolver/config';

/** A failed admin call, with the API's problem detail. */
export class AdminCallError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Talks to /admin/v1 of a running resolver with the configured admin credential. */
export class AdminClient {
  private readonly token: string;

  constructor(
    private readonly config: Pick<ResolverConfig, 'admin' | 'adminUrl' | 'mode' | 'embedded'>,
  ) {
    if (!config.admin)
      throw new AdminCallError(
        0,
        config.mode === 'embedded'
          ? `no admin credential: set ADMIN_TOKEN (or ADMIN_TOKEN_FILE), or start the resolver once (npm start) so that it generates ${config.embedded.dataDir}/admin-token`
          : 'no admin credential: set ADMIN_TOKEN (or ADMIN_TOKEN_FILE) to the value the resolver was started with',
      );
    this.token = Buffer.from(config.admin.token).toString('utf8');
  }

  async call<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    return this.request<T>(method, `/admin/v1${path}`, body);
  }

  /** A call to any admin-guarded route of the service (e.g. `/v1/diagnose`). */
  async request<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.config.adminUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      throw new AdminCallError(
        0,
        `cannot reach ${this.config.adminUrl}: ${(error as Error).message} (set RESOLVER_URL)`,
      );
    }
    const text = await res.text();
    const json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    if (!res.ok) {
      throw new AdminCallError(
        res.status,
        `${res.status} ${typeof json.detail === 'string' ? json.detail : typeof json.title === 'string' ? json.title : res.statusText}`,
      );
    }
    return json as T;
  }
}
