import { useEffect, useState } from 'preact/hooks';
import type { Api } from '../api';
import { when } from '../format';
import { PageTitle } from '../page-title';
import type { User, UserPage } from '../types';

interface Filters {
  tenant: string;
  email: string;
  status: string;
  provenance: string;
  deleted: string;
}
const NO_FILTERS: Filters = { tenant: '', email: '', status: '', provenance: '', deleted: 'false' };
const PAGE_SIZE = 20;

/** GET /admin/v1/users query: only the filters that are set, plus the cursor. */
function query(filters: Filters, cursor: string | undefined): string {
  const q = new URLSearchParams({ limit: String(PAGE_SIZE) });
  for (const [k, v] of Object.entries(filters) as [keyof Filters, string][]) if (v) q.set(k, v);
  if (cursor) q.set('cursor', cursor);
  return q.toString();
}

function Select(props: {
  id: string;
  label: string;
  value: string;
  options: [string, string][];
  onChange: (v: string) => void;
}) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <select
        id={props.id}
        value={props.value}
        onChange={(e) => props.onChange(e.currentTarget.value)}
      >
        {props.options.map(([value, label]) => (
          <option value={value}>{label}</option>
        ))}
      </select>
    </div>
  );
}

function Text(props: { id: string; label: string; value: string; onInput: (v: string) => void }) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <input
        id={props.id}
        value={props.value}
        autocomplete="off"
        onInput={(e) => props.onInput(e.currentTarget.value)}
      />
    </div>
  );
}

/** Users through the admin API's list: filters and cursor paging, nothing decided here. */
export function UsersPage({ api }: { api: Api }) {
  const [form, setForm] = useState<Filters>(NO_FILTERS);
  const [applied, setApplied] = useState<Filters>(NO_FILTERS);
  // Cursors of the pages before this one, for "Previous"; the last is this page's.
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [page, setPage] = useState<UserPage | undefined>();
  const [error, setError] = useState<string | undefined>();
  const cursor = cursors[cursors.length - 1];

  useEffect(() => {
    let live = true;
    setError(undefined);
    api.get<UserPage>(`/admin/v1/users?${query(applied, cursor)}`).then(
      (answer) => {
        if (!live) return;
        if (answer.ok) setPage(answer.body);
        else setError(`The admin API answered ${answer.status}: ${JSON.stringify(answer.body)}`);
      },
      (e: unknown) => live && setError(String(e)),
    );
    return () => {
      live = false;
    };
  }, [api, applied, cursor]);

  const set = (key: keyof Filters) => (value: string) => setForm({ ...form, [key]: value });
  const users: readonly User[] = page?.users ?? [];
  return (
    <>
      <PageTitle>Users</PageTitle>
      <form
        method="get"
        class="card filters"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied(form);
          setCursors([undefined]);
        }}
      >
        <Text id="f-email" label="Email" value={form.email} onInput={set('email')} />
        <Text id="f-tenant" label="Tenant" value={form.tenant} onInput={set('tenant')} />
        <Select
          id="f-status"
          label="Status"
          value={form.status}
          onChange={set('status')}
          options={[
            ['', 'Any'],
            ['active', 'Active'],
            ['disabled', 'Disabled'],
            ['locked', 'Locked'],
          ]}
        />
        <Select
          id="f-provenance"
          label="Provenance"
          value={form.provenance}
          onChange={set('provenance')}
          options={[
            ['', 'Any'],
            ['admin', 'Admin'],
            ['jit', 'Just-in-time'],
            ['scim', 'SCIM'],
            ['import', 'Import'],
          ]}
        />
        <Select
          id="f-deleted"
          label="Deleted"
          value={form.deleted}
          onChange={set('deleted')}
          options={[
            ['false', 'Not deleted'],
            ['true', 'Deleted only'],
            ['all', 'All'],
          ]}
        />
        <div class="actions">
          <button type="submit">Search</button>
        </div>
      </form>
      <div aria-live="polite">
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
      </div>
      <div class="scroll" tabIndex={0} role="region" aria-label="Users found">
        <table class="users">
          <caption>
            {users.length} user{users.length === 1 ? '' : 's'} on this page
          </caption>
          <thead>
            <tr>
              <th scope="col">User</th>
              <th scope="col">Tenant</th>
              <th scope="col">Status</th>
              <th scope="col">Provenance</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {users.map((u) => (
              <tr>
                <td>
                  <a href={`#/users/${encodeURIComponent(u.id)}`}>
                    {u.email ?? u.username ?? u.id}
                  </a>
                  {u.deletedAt && <span class="badge fail">deleted</span>}
                </td>
                <td>{u.tenantId || '—'}</td>
                <td>
                  <span class={`badge ${u.status === 'active' ? 'pass' : 'warn'}`}>{u.status}</span>
                </td>
                <td>{u.provenance}</td>
                <td>{when(u.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <nav class="actions" aria-label="Pages">
        <button
          type="button"
          disabled={cursors.length < 2}
          onClick={() => setCursors(cursors.slice(0, -1))}
        >
          Previous page
        </button>
        <button
          type="button"
          disabled={!page?.nextCursor}
          onClick={() => page?.nextCursor && setCursors([...cursors, page.nextCursor])}
        >
          Next page
        </button>
      </nav>
    </>
  );
}
