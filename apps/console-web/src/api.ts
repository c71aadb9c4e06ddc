/** An admin API answer as the console shows it: the status line and the JSON body. */
export interface Answer<T = unknown> {
  readonly status: number;
  readonly ok: boolean;
  readonly body: T;
}

/** Thrown when the server refuses the credential: the console goes back to sign-in. */
export class CredentialRefused extends Error {}

/**
 * Same-origin JSON calls with the admin credential in the Authorization header. The credential
 * lives only in this object, in the tab's memory: never a cookie, storage or a URL.
 */
export class Api {
  constructor(
    private readonly credential: string,
    private readonly onRefused: () => void,
  ) {}

  async call<T = unknown>(method: string, path: string, body?: unknown): Promise<Answer<T>> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.credential}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // Not JSON: shown as text.
    }
    if (res.status === 401) {
      this.onRefused();
      throw new CredentialRefused('the admin credential was refused');
    }
    return { status: res.status, ok: res.ok, body: parsed as T };
  }

  get<T = unknown>(path: string) {
    return this.call<T>('GET', path);
  }
}

/** A GET that needs no credential (readiness): the admin credential is not sent where it is not needed. */
export async function getPublic<T = unknown>(path: string): Promise<Answer<T>> {
  const res = await fetch(path, { credentials: 'omit', cache: 'no-store' });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: shown as text.
  }
  return { status: res.status, ok: res.ok, body: body as T };
}

/** Tries a credential against the admin API; true when it is accepted. */
export async function credentialAccepted(credential: string): Promise<boolean> {
  const res = await fetch('/admin/v1/users?limit=1', {
    headers: { authorization: `Bearer ${credential}` },
    credentials: 'omit',
    cache: 'no-store',
  });
  return res.ok;
}
