import { useCallback, useEffect, useState } from 'preact/hooks';
import type { Answer, Api } from '../api';
import { ConfirmDialog, type PendingAction } from '../confirm';
import { userName, when } from '../format';
import { PageTitle } from '../page-title';
import type { Identity, User } from '../types';

/** The admin API's lifecycle routes, as buttons: POST /admin/v1/users/:id/<action>. */
const LIFECYCLE: readonly { action: string; label: string; detail: string }[] = [
  {
    action: 'disable',
    label: 'Disable',
    detail: 'Every token of this user is refused with USER_DISABLED until it is enabled.',
  },
  {
    action: 'enable',
    label: 'Enable',
    detail:
      'The user resolves again (status active), overriding every deactivation, SCIM’s and the import’s included.',
  },
  {
    action: 'lock',
    label: 'Lock',
    detail: 'Every token of this user is refused with USER_LOCKED until it is unlocked.',
  },
  {
    action: 'unlock',
    label: 'Unlock',
    detail:
      'Lifts every lock. The user resolves again, unless SCIM or the import deactivated it meanwhile: then it stays disabled (Enable overrides that).',
  },
  {
    action: 'delete',
    label: 'Delete',
    detail: 'Soft delete: tokens are refused with USER_DELETED; restore undoes it.',
  },
  { action: 'restore', label: 'Restore', detail: 'Undoes a soft delete.' },
  {
    action: 'sign-out',
    label: 'Sign out everywhere',
    detail: 'Every token issued before now is refused (TOKEN_REVOKED); new ones work.',
  },
];

function Facts({ user }: { user: User }) {
  const rows: [string, preact.ComponentChildren][] = [
    ['Id', <code>{user.id}</code>],
    ['Tenant', user.tenantId || '— (none)'],
    ['Namespace', user.namespace || 'the operator’s'],
    ['Kind', user.kind],
    ['Email', user.email ?? '—'],
    ['Username', user.username ?? '—'],
    ['Display name', user.displayName ?? '—'],
    [
      'Status',
      <span class={`badge ${user.status === 'active' ? 'pass' : 'warn'}`}>{user.status}</span>,
    ],
    [
      'Decided by',
      Object.entries(user.statusDecisions ?? {})
        .map(([writer, decision]) => `${decision} by ${writer}`)
        .join('; ') || '—',
    ],
    ['Deleted', user.deletedAt ? <span class="badge fail">{when(user.deletedAt)}</span> : 'no'],
    ['Provenance', user.provenance],
    ['Roles', user.roles.length ? user.roles.join(', ') : '—'],
    ['Signed out everywhere', when(user.tokensValidAfter)],
    ['Created', when(user.createdAt)],
    ['Updated', when(user.updatedAt)],
  ];
  return (
    <dl class="facts card">
      {rows.map(([k, v]) => (
        <>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </>
      ))}
      <dt>Attributes</dt>
      <dd>
        <pre class="json" tabIndex={0} aria-label="Attributes">
          {JSON.stringify(user.attributes, null, 2)}
        </pre>
      </dd>
    </dl>
  );
}

/** A user, its identities, and the admin API's lifecycle actions (each confirmed first). */
export function UserPage({ api, id }: { api: Api; id: string }) {
  const base = `/admin/v1/users/${encodeURIComponent(id)}`;
  const [user, setUser] = useState<Answer<User> | undefined>();
  const [identities, setIdentities] = useState<readonly Identity[]>([]);
  const [pending, setPending] = useState<PendingAction | undefined>();
  const [answer, setAnswer] = useState<{ what: string; answer: Answer } | undefined>();
  const [link, setLink] = useState({ issuer: '', tenant: '', subject: '' });

  const load = useCallback(async () => {
    const [u, i] = await Promise.all([
      api.get<User>(base),
      api.get<{ identities: Identity[] }>(`${base}/identities`),
    ]);
    setUser(u);
    setIdentities(i.ok ? i.body.identities : []);
  }, [api, base]);
  useEffect(() => {
    load().catch(() => undefined);
  }, [load]);

  const act = (what: string, method: string, path: string, body?: unknown) => async () => {
    const result = await api.call(method, path, body);
    setAnswer({ what, answer: result });
    await load();
  };
  const name = user?.ok ? userName(user.body) : id;

  if (user && !user.ok) {
    return (
      <>
        <PageTitle>User {id}</PageTitle>
        <p class="error" role="alert">
          The admin API answered {user.status}: {JSON.stringify(user.body)}
        </p>
      </>
    );
  }
  return (
    <>
      <PageTitle>User {name}</PageTitle>
      <p>
        <a href="#/users">All users</a>
      </p>
      {user?.ok && <Facts user={user.body} />}
      <section aria-labelledby="actions-title" class="card">
        <h2 id="actions-title">Lifecycle</h2>
        <div class="actions wrap">
          {LIFECYCLE.map((l) => (
            <button
              type="button"
              onClick={() =>
                setPending({
                  title: `${l.label} ${name}?`,
                  detail: l.detail,
                  confirmLabel: l.label,
                  run: act(l.label, 'POST', `${base}/${l.action}`),
                })
              }
            >
              {l.label}
            </button>
          ))}
        </div>
      </section>
      <div aria-live="polite">
        {answer && (
          <section
            aria-labelledby="answer-title"
            class={`card answer ${answer.answer.ok ? 'ok' : 'bad'}`}
          >
            <h2 id="answer-title">
              {answer.what}: the admin API answered {answer.answer.status}
            </h2>
            <pre class="json" tabIndex={0} aria-label="Admin API answer">
              {answer.answer.body === null
                ? '(no body)'
                : JSON.stringify(answer.answer.body, null, 2)}
            </pre>
          </section>
        )}
      </div>
      <section aria-labelledby="identities-title" class="card">
        <h2 id="identities-title">External identities</h2>
        <div class="scroll" tabIndex={0} role="region" aria-label="External identities">
          <table>
            <thead>
              <tr>
                <th scope="col">Issuer</th>
                <th scope="col">Tenant</th>
                <th scope="col">Subject</th>
                <th scope="col">Linked</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {identities.map((i) => (
                <tr>
                  <td>{i.issuer}</td>
                  <td>{i.tenant || '—'}</td>
                  <td>
                    <code>{i.subject}</code>
                  </td>
                  <td>{when(i.createdAt)}</td>
                  <td>
                    <button
                      type="button"
                      aria-label={`Unlink ${i.issuer} ${i.subject}`}
                      onClick={() =>
                        setPending({
                          title: `Unlink this identity from ${name}?`,
                          detail: `Tokens from ${i.issuer} with subject ${i.subject} stop resolving to this user.`,
                          confirmLabel: 'Unlink',
                          run: act(
                            'Unlink',
                            'DELETE',
                            `${base}/identities/${encodeURIComponent(i.id)}`,
                          ),
                        })
                      }
                    >
                      Unlink
                    </button>
                  </td>
                </tr>
              ))}
              {identities.length === 0 && (
                <tr>
                  <td colSpan={5}>No linked identities.</td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
        <form
          method="post"
          class="filters"
          onSubmit={(e) => {
            e.preventDefault();
            setPending({
              title: `Link an identity to ${name}?`,
              detail: `Tokens from ${link.issuer} with subject ${link.subject}${link.tenant ? ` in tenant ${link.tenant}` : ''} will resolve to this user.`,
              confirmLabel: 'Link',
              run: act('Link', 'POST', `${base}/identities`, link),
            });
          }}
        >
          <h3>Link an identity</h3>
          <div class="field">
            <label for="link-issuer">Issuer</label>
            <input
              id="link-issuer"
              required
              autocomplete="off"
              value={link.issuer}
              onInput={(e) => setLink({ ...link, issuer: e.currentTarget.value })}
            />
          </div>
          <div class="field">
            <label for="link-tenant">Tenant (optional)</label>
            <input
              id="link-tenant"
              autocomplete="off"
              value={link.tenant}
              onInput={(e) => setLink({ ...link, tenant: e.currentTarget.value })}
            />
          </div>
          <div class="field">
            <label for="link-subject">Subject</label>
            <input
              id="link-subject"
              required
              autocomplete="off"
              value={link.subject}
              onInput={(e) => setLink({ ...link, subject: e.currentTarget.value })}
            />
          </div>
          <div class="actions">
            <button type="submit">Link identity</button>
          </div>
        </form>
      </section>
      <ConfirmDialog action={pending} onClose={() => setPending(undefined)} />
    </>
  );
}
