import { tmpdir } from 'node:os';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { TestBrowser, seriousAxeViolations } from './support/browser';
import { createTestDatabase } from './support/database';
import { JwksServer } from './support/jwks-server';
import { DIAGNOSIS_STEPS } from '@resolver/resolution';
import { ResolverHarness } from './support/resolver-harness';
import { claimsFor, TokenFactory } from './support/token-factory';

const ADMIN_TOKEN = 'console-admin-secret-0123456789abcdef';
const AUD = 'api://console';
const ISS = 'https://console.idp.test';
// The README's pictures are rewritten only on request (UPDATE_SCREENSHOTS=1): ids and times
// change on every run, and a test run should leave the checkout as it found it.
const SHOTS =
  process.env.UPDATE_SCREENSHOTS === '1'
    ? join(__dirname, '..', 'docs', 'screenshots')
    : join(tmpdir(), 'resolver-console-screenshots');

/** Every structured log line of the app, as text (the token must never be in it). */
class Capture {
  readonly chunks: string[] = [];
  write(chunk: string): void {
    this.chunks.push(chunk);
  }
  get text(): string {
    return this.chunks.join('');
  }
}

/**
 * The operator console in a real browser (Debian's chromium through playwright-core) against a
 * real resolver, Postgres and JWKS: sign-in, diagnosis of a refused token, the near miss to the
 * user, the fix and a lifecycle action through the admin API, and what the token must never
 * touch (URL, storage, cookies, the server's log). axe-core checks every page; the test takes
 * the README's screenshots.
 */
describe('operator console (browser)', () => {
  let idp: JwksServer;
  let keys: TokenFactory;
  let app: ResolverHarness;
  let off: ResolverHarness;
  let browser: TestBrowser;
  let page: Page;
  const log = new Capture();
  const requested: string[] = [];
  const credentialSentTo: string[] = [];
  const cspViolations: string[] = [];
  /** Every error the page's console shows (a failed load, an uncaught exception), with where. */
  const consoleErrors: string[] = [];
  /** Every load that failed or answered 4xx/5xx, as `status METHOD path`. */
  const failedLoads: string[] = [];
  /** The failures a test provokes on purpose (a wrong credential, a conflicting link). */
  const provoked: string[] = [];
  const pathOf = (url: string) => (url ? new URL(url).pathname : '(page)');
  const now = () => Math.floor(Date.now() / 1000);
  let aliceToken: string;
  let aliceHash: string;

  const admin = (path: string, init: RequestInit = {}) =>
    app.http(path, {
      ...init,
      headers: {
        authorization: `Bearer ${ADMIN_TOKEN}`,
        'content-type': 'application/json',
        ...init.headers,
      },
    });

  /** Resolves until `status` (cache invalidation travels through LISTEN/NOTIFY): bounded. */
  const resolveUntil = async (token: string, status: number) => {
    let answer = await app.resolveHttp({ token });
    for (let i = 0; i < 50 && answer.status !== status; i++) {
      await new Promise((r) => setTimeout(r, 100));
      answer = await app.resolveHttp({ token });
    }
    return answer;
  };

  /** Serious and critical axe findings on the current page: there must be none. */
  const expectAccessible = async () => {
    const violations = await seriousAxeViolations(page);
    expect(violations).toEqual([]);
  };
  // The pasted token is masked in the pictures: a JWT in the docs would trip secret scanners.
  const shot = (name: string, fullPage = true) =>
    page.screenshot({
      path: join(SHOTS, `${name}.png`),
      fullPage,
      mask: [page.locator('textarea')],
      maskColor: '#dde1e6',
    });

  beforeAll(async () => {
    idp = await new JwksServer().start();
    keys = await TokenFactory.create('console');
    const jwksUri = idp.publishJwks('console', keys.publicJwks());
    const issuers = [{ issuer: ISS, jwksUri, audiences: [AUD], algorithms: ['RS256'] }];
    app = await ResolverHarness.start({
      databaseUrl: await createTestDatabase('console'),
      issuers,
      env: { ADMIN_TOKEN },
      // The most talkative level: even then the token must not reach the log.
      config: { logging: { level: 'debug' } },
      logDestination: log,
    });
    off = await ResolverHarness.start({
      databaseUrl: await createTestDatabase('console_off'),
      issuers,
    });

    // Alice exists with the token's email but was never linked to the IdP: a near miss.
    const alice = await admin('/admin/v1/users', {
      method: 'POST',
      body: JSON.stringify({ email: 'alice@example.com', displayName: 'Alice', roles: ['ops'] }),
    });
    expect(alice.status).toBe(201);
    // Enough users for a second page of the list, one of them linked and resolving.
    for (let i = 0; i < 24; i++) {
      const res = await admin('/admin/v1/users', {
        method: 'POST',
        body: JSON.stringify({
          email: `user${String(i).padStart(2, '0')}@example.com`,
          tenant: i % 2 ? 'acme' : '',
          identities: i === 0 ? [{ issuer: ISS, subject: 'user-00' }] : [],
        }),
      });
      expect(res.status).toBe(201);
    }
    aliceToken = await keys.sign(
      claimsFor(ISS, AUD, now(), { sub: 'alice-idp-7', email: 'alice@example.com' }),
    );
    // Some traffic for the overview: answers and refusals by reason.
    const good = await keys.sign(claimsFor(ISS, AUD, now(), { sub: 'user-00' }));
    const expired = await keys.sign(claimsFor(ISS, AUD, now(), { exp: now() - 120 }));
    for (const token of [good, good, good, expired, aliceToken]) await app.resolveHttp({ token });
    expect((await app.resolveHttp({ token: aliceToken })).body.reason).toBe('USER_NOT_FOUND');

    await mkdir(SHOTS, { recursive: true });
    browser = await TestBrowser.launch();
    page = await browser.context.newPage();
    page.on('request', (r) => {
      requested.push(r.url());
      if (r.headers().authorization) credentialSentTo.push(new URL(r.url()).pathname);
    });
    page.on('console', (m) => {
      if (/Content.Security.Policy/i.test(m.text())) cspViolations.push(m.text());
      if (m.type() === 'error') consoleErrors.push(`${m.text()} @ ${pathOf(m.location().url)}`);
    });
    page.on('pageerror', (e) => consoleErrors.push(`uncaught: ${e.message}`));
    page.on('response', (r) => {
      if (r.status() >= 400)
        failedLoads.push(`${r.status()} ${r.request().method()} ${pathOf(r.url())}`);
    });
    page.on('requestfailed', (r) =>
      failedLoads.push(`${r.failure()?.errorText ?? 'failed'} ${r.method()} ${pathOf(r.url())}`),
    );
  });

  // Every page loads without a console error or a failed request (the favicon included), but
  // for the refusals a test asks for; each of those shows as exactly one failed load.
  afterEach(() => {
    expect(failedLoads).toEqual(provoked);
    expect(consoleErrors).toEqual(
      provoked.map((p) => {
        const [status, , path] = p.split(' ');
        return expect.stringMatching(
          new RegExp(
            `^Failed to load resource: the server responded with a status of ${status} .* @ ${path}$`,
          ),
        );
      }),
    );
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await off?.close();
    await idp?.stop();
  });

  it('is absent when the admin API is', async () => {
    expect((await off.http('/console')).status).toBe(404);
    expect((await off.http('/console/api/overview')).status).toBe(404);
  });

  it('serves a strict CSP index and hashed, long-cached assets; its JSON needs the credential', async () => {
    const index = await app.http('/console');
    expect(index.status).toBe(200);
    const csp = index.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(index.headers.get('cache-control')).toBe('no-store');
    const html = index.body as string;
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/); // no inline script
    expect(html).not.toMatch(/https?:\/\//); // no CDN, no remote font
    // The icon is inline, so the browser never asks for /favicon.ico; the CSP lets it in.
    expect(html).toMatch(
      /<link rel="icon" type="image\/svg\+xml" href="data:image\/svg\+xml;base64,/,
    );
    expect(csp).toContain("img-src 'self' data:");
    const assets = [...html.matchAll(/\/console\/assets\/([\w-]+\.(?:js|css))/g)].map((m) => m[0]);
    expect(assets).toHaveLength(2);
    for (const asset of assets) {
      expect(asset).toMatch(/-[A-Z0-9]{8}\.(js|css)$/);
      const res = await app.http(asset);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    }
    expect((await app.http('/console/assets/..%2Fpackage.json')).status).toBe(404);
    expect((await app.http('/console/api/overview')).status).toBe(401);
    expect((await admin('/console/api/overview')).status).toBe(200);
  });

  it('signs in with the admin credential only, from the keyboard', async () => {
    await page.goto(`${app.url}/console`);
    await page.getByRole('heading', { name: 'Subject resolver console' }).waitFor();
    await expectAccessible();
    await shot('sign-in');

    await page.keyboard.press('Tab');
    await page.keyboard.type('not-the-admin-credential');
    await page.keyboard.press('Enter');
    await expect(page.getByRole('alert').textContent()).resolves.toContain('Refused');
    provoked.push('401 GET /admin/v1/users');

    await page.getByLabel('Admin credential').fill('');
    await page.getByLabel('Admin credential').focus();
    await page.keyboard.type(ADMIN_TOKEN);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.getByRole('heading', { name: 'Issuer keys' }).waitFor();
    await page.getByRole('cell', { name: ISS }).waitFor();
    await page.getByRole('row', { name: /USER_NOT_FOUND/ }).waitFor();
    expect(await page.getByRole('row', { name: /TOKEN_EXPIRED/ }).textContent()).toContain('1');
    expect(await page.locator('text=connected').count()).toBeGreaterThan(0);
    await expectAccessible();
    await shot('overview');
  });

  it('diagnoses the refused token: the failing step, its fix, the near miss to the user', async () => {
    await page.getByRole('link', { name: 'Diagnose' }).click();
    await page.getByLabel('Token (JWT) to diagnose').fill(aliceToken);
    // Decoded in the page first, like jwt.io; the signature is never echoed.
    const decoded = page.getByRole('region', { name: 'Decoded in this page' });
    await expect(decoded.getByLabel('Token payload').textContent()).resolves.toContain(
      'alice-idp-7',
    );
    await expect(decoded.getByRole('row', { name: /Expires/ }).textContent()).resolves.toMatch(
      /Z.*in (9|10) min/,
    );
    await page.getByRole('button', { name: 'Diagnose' }).click();
    const verdict = page.getByRole('region', { name: 'Verdict' });
    await verdict.getByText('USER_NOT_FOUND').waitFor();
    expect(await verdict.textContent()).toContain('16 UNAUTHENTICATED');
    const userStep = page.locator('li.step[data-step="user"]');
    expect(await userStep.locator('.badge').textContent()).toBe('fail');
    expect(await userStep.textContent()).toContain('link the identity');
    expect(await page.locator('li.step').count()).toBe(DIAGNOSIS_STEPS.length);
    const signature = aliceToken.split('.')[2] as string;
    expect(await page.content()).not.toContain(signature);
    await expectAccessible();
    await shot('diagnose');

    await userStep.getByRole('link', { name: 'Open user alice@example.com' }).click();
    await page.getByRole('heading', { name: 'User alice@example.com' }).waitFor();
    expect(page.url()).toMatch(/#\/users\/[0-9a-f-]{36}$/);
    aliceHash = new URL(page.url()).hash;
  });

  it('follows the fix (link), then disables the user: the same token is USER_DISABLED', async () => {
    await page.getByLabel('Issuer').fill(ISS);
    await page.getByLabel('Subject').fill('alice-idp-7');
    await page.getByRole('button', { name: 'Link identity' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('Link an identity to alice@example.com?').waitFor();
    await dialog.getByRole('button', { name: 'Link' }).click();
    await page.getByRole('heading', { name: 'Link: the admin API answered 201' }).waitFor();
    await page.getByRole('cell', { name: 'alice-idp-7', exact: true }).waitFor();
    expect((await resolveUntil(aliceToken, 200)).status).toBe(200);

    // A refusal is shown as the admin API gave it: user-00's identity belongs to another user.
    await page.getByLabel('Subject').fill('user-00');
    await page.getByRole('button', { name: 'Link identity' }).click();
    await dialog.getByRole('button', { name: 'Link' }).click();
    await page.getByRole('heading', { name: 'Link: the admin API answered 409' }).waitFor();
    const aliceId = /[0-9a-f-]{36}/.exec(aliceHash)?.[0];
    provoked.push(`409 POST /admin/v1/users/${aliceId}/identities`);
    expect(await page.getByLabel('Admin API answer', { exact: true }).textContent()).toContain(
      'identities',
    );

    await page.getByRole('button', { name: 'Disable', exact: true }).click();
    await dialog.getByText('Disable alice@example.com?').waitFor();
    await expectAccessible();
    await shot('confirm', false);
    // Cancel is focused first; the confirming button is one Tab away.
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Disable: the admin API answered 200' }).waitFor();
    expect(await page.getByLabel('Admin API answer', { exact: true }).textContent()).toContain(
      '"disabled"',
    );
    const answer = await resolveUntil(aliceToken, 403);
    expect(answer.status).toBe(403);
    expect(answer.body.reason).toBe('USER_DISABLED');
    await expectAccessible();
    await shot('user');
  });

  it('lists users with filters and cursor paging through the admin API', async () => {
    await page.getByRole('link', { name: 'Users', exact: true }).click();
    const table = page.getByRole('region', { name: 'Users found' });
    await table.getByText('20 users on this page').waitFor();
    const first = await table.locator('tbody tr').first().textContent();
    await page.getByRole('button', { name: 'Next page' }).click();
    await table.getByText('5 users on this page').waitFor();
    expect(await table.locator('tbody tr').first().textContent()).not.toBe(first);
    await page.getByRole('button', { name: 'Previous page' }).click();
    await table.getByText('20 users on this page').waitFor();

    await page.getByLabel('Status').selectOption('disabled');
    await page.getByRole('button', { name: 'Search' }).click();
    await table.getByText('1 user on this page').waitFor();
    expect(await table.textContent()).toContain('alice@example.com');
    await page.getByLabel('Status').selectOption('');
    await page.getByLabel('Tenant').fill('acme');
    await page.getByLabel('Provenance').selectOption('admin');
    await page.getByRole('button', { name: 'Search' }).click();
    await table.getByText('12 users on this page').waitFor();
    await expectAccessible();
    await shot('users');
  });

  it('works at 360 px wide without sideways scrolling', async () => {
    await page.setViewportSize({ width: 360, height: 780 });
    for (const hash of ['#/overview', aliceHash, '#/users', '#/diagnose']) {
      await page.evaluate((h) => ((globalThis as any).location.hash = h), hash);
      await page.waitForTimeout(300);
      expect(
        await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth),
      ).toBeLessThanOrEqual(360);
      await expectAccessible();
    }
    await page.getByLabel('Token (JWT) to diagnose').fill(aliceToken);
    await page.getByRole('button', { name: 'Diagnose' }).click();
    await page.getByRole('region', { name: 'Verdict' }).getByText('USER_DISABLED').waitFor();
    expect(
      await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth),
    ).toBeLessThanOrEqual(360);
    await page.evaluate(() => (globalThis as any).scrollTo(0, 0));
    await shot('diagnose-360px', false);
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('the token and the credential never reach the URL, storage, cookies or the server log', async () => {
    const signature = aliceToken.split('.')[2] as string;
    const storage = await page.evaluate(() =>
      JSON.stringify({
        ...(globalThis as any).localStorage,
        ...(globalThis as any).sessionStorage,
      }),
    );
    expect(storage).toBe('{}');
    expect(await page.evaluate(() => (globalThis as any).document.cookie)).toBe('');
    expect(await browser.context.cookies()).toEqual([]);
    for (const url of [...requested, page.url()]) {
      expect(url).not.toContain(signature);
      expect(url).not.toContain(ADMIN_TOKEN);
    }
    expect(requested.some((u) => u.endsWith('/v1/diagnose'))).toBe(true);
    // The credential goes only where it is needed: not to readiness, never to the assets.
    expect(credentialSentTo.length).toBeGreaterThan(0);
    for (const path of credentialSentTo) {
      expect(path).toMatch(/^\/(admin\/v1\/|v1\/diagnose$|console\/api\/)/);
    }
    expect(log.text.length).toBeGreaterThan(0);
    expect(log.text).not.toContain(signature);
    expect(log.text).not.toContain(aliceToken.split('.')[1] as string);
    expect(log.text).not.toContain(ADMIN_TOKEN);
    expect(cspViolations).toEqual([]);
    // Signing out forgets the credential: the next page is the sign-in form again.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Admin credential').waitFor();
    expect(await page.getByLabel('Admin credential').inputValue()).toBe('');
  });
});
