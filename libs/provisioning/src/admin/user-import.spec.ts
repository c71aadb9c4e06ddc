import { InMemoryDatabase, InMemoryIdentityStore } from '@resolver/identity/testing';
import { importInput, parseInput } from './admin-inputs';
import { UserImport } from './user-import';

const NOW = new Date('2026-03-01T12:00:00Z');

let store: InMemoryIdentityStore;
let importer: UserImport;

/** What the edge (the zod pipe) makes of a request body, then the use case. */
const run = (body: { rows: unknown[]; dryRun?: boolean }) => {
  const { rows, dryRun } = parseInput(importInput, body);
  return importer.import(rows, { dryRun });
};

beforeEach(() => {
  store = new InMemoryIdentityStore(new InMemoryDatabase(() => NOW));
  importer = new UserImport(store);
});

const ROWS = [
  { tenant: 'imp', email: 'Exists@example.com', displayName: 'New', attributes: { b: 2 } },
  {
    tenant: 'imp',
    email: 'fresh@example.com',
    identities: [{ issuer: 'https://idp', tenant: 'imp', subject: 'fresh' }],
  },
  { tenant: 'imp', email: 'broken' },
];

async function seed() {
  await run({
    rows: [
      { tenant: 'imp', email: 'exists@example.com', displayName: 'Old', attributes: { a: 1 } },
    ],
  });
  store.commits = 0;
}

describe('UserImport', () => {
  it('reports created, updated and rejected rows; a bad row does not stop the others', async () => {
    await seed();
    const results = await run({ rows: ROWS });
    expect(results).toEqual([
      { row: 1, result: 'updated', id: expect.any(String) },
      { row: 2, result: 'created', id: expect.any(String) },
      { row: 3, result: 'rejected', error: 'email: must be an email address' },
    ]);
    const users = store.allUsers();
    expect(users.map((u) => [u.email, u.provenance, u.displayName, u.attributes])).toEqual([
      ['exists@example.com', 'import', 'New', { a: 1, b: 2 }],
      ['fresh@example.com', 'import', null, {}],
    ]);
    expect(store.commits).toBe(2);
  });

  it('a dry run answers what a real run would do and writes nothing', async () => {
    await seed();
    const before = store.allUsers();
    const dry = await run({ rows: ROWS, dryRun: true });
    expect(dry.map((r) => r.result)).toEqual(['updated', 'created', 'rejected']);
    expect(store.allUsers()).toEqual(before);
    expect(store.commits).toBe(0);
    const real = await run({ rows: ROWS });
    expect(real.map((r) => r.result)).toEqual(dry.map((r) => r.result));
    expect(real[0]?.id).toBe(dry[0]?.id);
  });

  it('a dry run makes the store checks too: a conflict is rejected, not "created"', async () => {
    await run({ rows: [{ tenant: 't', username: 'ann' }] });
    const rows = [{ tenant: 't', email: 'ann@example.com', username: 'ann' }];
    for (const dryRun of [true, false])
      expect(await run({ rows, dryRun })).toEqual([
        { row: 1, result: 'rejected', error: 'username: already in use' },
      ]);
  });

  it('matches by email, else username, else the first identity; links stay idempotent', async () => {
    const link = { issuer: 'https://idp', subject: 's-1' };
    const [first] = await run({ rows: [{ tenant: 't', identities: [link] }] });
    const again = await run({
      rows: [
        { tenant: 't', identities: [link], displayName: 'By link' },
        { tenant: 't', username: 'bob' },
        { tenant: 't', username: 'bob', roles: ['r'] },
      ],
    });
    expect(again.map((r) => [r.result, r.id === first?.id])).toEqual([
      ['updated', true],
      ['created', false],
      ['updated', false],
    ]);
    expect(again[2]?.id).toBe(again[1]?.id);
    expect(store.db.tables.links.size).toBe(1);
  });

  it('refuses a request that is not an array of at most 1,000 rows, naming rows', () => {
    for (const body of [{}, { rows: 'x' }, { rows: Array.from({ length: 1001 }, () => ({})) }])
      expect(() => parseInput(importInput, body)).toThrow(
        expect.objectContaining({
          kind: 'INVALID',
          field: 'rows',
          message: 'rows: must be an array of at most 1000 users',
        }),
      );
  });
});
