import { useEffect, useMemo, useState } from 'preact/hooks';
import { Api, credentialAccepted } from './api';
import { PageTitle } from './page-title';
import { type Route, routeOf } from './route';
import { DiagnosePage } from './pages/diagnose';
import { OverviewPage } from './pages/overview';
import { UserPage } from './pages/user';
import { UsersPage } from './pages/users';

function useRoute(): Route {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const onChange = () => setHash(location.hash);
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return useMemo(() => routeOf(hash), [hash]);
}

function SignIn({
  onSignedIn,
  notice,
}: {
  onSignedIn: (credential: string) => void;
  notice?: string;
}) {
  const [credential, setCredential] = useState('');
  const [error, setError] = useState<string | undefined>(notice);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      if (await credentialAccepted(credential)) onSignedIn(credential);
      else setError('Refused: that is not the admin credential.');
    } catch {
      setError('The resolver did not answer.');
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <PageTitle>Subject resolver console</PageTitle>
      <p>
        Sign in with the admin API credential. It is kept in this tab's memory only: closing or
        reloading the tab signs you out.
      </p>
      {/* No name attributes: even a native submit could never put the credential in a URL. */}
      <form
        method="post"
        onSubmit={(e) => void submit(e)}
        aria-describedby={error ? 'signin-error' : undefined}
      >
        <label for="credential">Admin credential</label>
        <input
          id="credential"
          type="password"
          autocomplete="off"
          required
          value={credential}
          onInput={(e) => setCredential(e.currentTarget.value)}
        />
        <button type="submit" disabled={busy}>
          Sign in
        </button>
        {error && (
          <p id="signin-error" class="error" role="alert">
            {error}
          </p>
        )}
      </form>
    </main>
  );
}

const NAV: readonly { page: Route['page']; label: string; href: string }[] = [
  { page: 'overview', label: 'Overview', href: '#/overview' },
  { page: 'diagnose', label: 'Diagnose', href: '#/diagnose' },
  { page: 'users', label: 'Users', href: '#/users' },
];

/** Sign-in, then the pages. The credential is component state: memory, this tab, nothing else. */
export function App() {
  const [credential, setCredential] = useState<string | undefined>(undefined);
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const route = useRoute();
  const api = useMemo(
    () =>
      credential === undefined
        ? undefined
        : new Api(credential, () => {
            setCredential(undefined);
            setNotice('The admin credential was refused; sign in again.');
          }),
    [credential],
  );
  if (!api) return <SignIn onSignedIn={setCredential} notice={notice} />;
  const current = route.page === 'user' ? 'users' : route.page;
  return (
    <>
      <a class="skip" href="#content">
        Skip to content
      </a>
      <header class="bar">
        <span class="brand">Subject resolver</span>
        <nav aria-label="Console">
          {NAV.map((n) => (
            <a href={n.href} aria-current={current === n.page ? 'page' : undefined}>
              {n.label}
            </a>
          ))}
        </nav>
        <button
          type="button"
          class="link"
          onClick={() => {
            setNotice(undefined);
            setCredential(undefined);
          }}
        >
          Sign out
        </button>
      </header>
      <main id="content">
        {route.page === 'overview' && <OverviewPage api={api} />}
        {route.page === 'diagnose' && <DiagnosePage api={api} />}
        {route.page === 'users' && <UsersPage api={api} />}
        {route.page === 'user' && <UserPage key={route.id} api={api} id={route.id} />}
      </main>
    </>
  );
}
