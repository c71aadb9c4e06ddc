import type { Page } from 'playwright-core';
import { TestBrowser } from '../support/browser';
import { createTestDatabase } from '../support/database';
import { ResolverHarness } from '../support/resolver-harness';

const ADMIN_TOKEN = 'console-router-secret-0123456789abcdef';

/**
 * The console's hash router in Chromium (issue #22): `#/users/%E0%A4%A` threw a URIError and the
 * page stopped updating. Every hostile hash must leave a page that still answers navigation, with
 * no uncaught error and nothing from the hash rendered as markup.
 */
describe('console router (browser): any hash', () => {
  let app: ResolverHarness;
  let browser: TestBrowser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    app = await ResolverHarness.start({
      databaseUrl: await createTestDatabase('console_router'),
      issuers: [],
      env: { ADMIN_TOKEN },
    });
    browser = await TestBrowser.launch();
    page = await browser.context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${app.url}/console`);
    await page.getByLabel('Admin credential').fill(ADMIN_TOKEN);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  const hostile = [
    '#/users/%E0%A4%A',
    '#/users/%',
    '#/users/%uD800',
    '#/users/%F0%9F%98',
    `#/users/${encodeURIComponent('<img src=x onerror=alert(1)>')}`,
    '#/users/..%2F..%2Fadmin%2Fv1%2Fusers',
    '#/%E0%A4%A/%E0%A4%A',
  ];

  it.each(hostile)('%s: the page shows the refusal and keeps following the hash', async (hash) => {
    await page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
    await page
      .getByRole('heading', { name: /^User / })
      .or(page.getByRole('heading', { name: 'Overview' }))
      .waitFor();
    expect(await page.locator('img').count()).toBe(0);
    // Still routed: the next navigation renders its page.
    await page.evaluate("location.hash = '#/diagnose'");
    await page.getByRole('heading', { name: 'Diagnose a token' }).waitFor();
    expect(pageErrors).toEqual([]);
  });
});
