import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importBatches } from './admin.commands';
import { type NumberedRow, readImportFile } from './import-file';
import { IMPORT_MAX_BODY_BYTES } from '@resolver/provisioning';

describe('import files', () => {
  let dir: string;
  beforeAll(async () => (dir = await mkdtemp(join(tmpdir(), 'import-file-'))));
  afterAll(async () => rm(dir, { recursive: true, force: true }));
  const read = async (name: string, text: string) => {
    await writeFile(join(dir, name), text);
    return readImportFile(join(dir, name));
  };

  it('numbers CSV rows by the line they start on and refuses rows of the wrong width', async () => {
    const { rows, errors } = await read(
      'a.csv',
      'tenant,email,displayName\r\n' +
        't,a@example.com,A\r\n' +
        '\r\n' +
        't,"b@example.com","B\nB"\r\n' +
        't,c@example.com\r\n' +
        't,d@example.com,D,extra\r\n' +
        't,e@example.com,\r\n',
    );
    expect(rows.map((r) => [r.line, r.row.email])).toEqual([
      [2, 'a@example.com'],
      [4, 'b@example.com'],
      [8, 'e@example.com'],
    ]);
    expect(rows[1]?.row.displayName).toBe('B\nB');
    expect(errors).toEqual([
      'line 6: has 2 columns, the header has 3',
      'line 7: has 4 columns, the header has 3',
    ]);
  });

  it('sends every CSV value exactly as the file holds it: no trim, no fold, no normalisation', async () => {
    const subject = '\u00a0trimsub\u3000';
    const { rows, errors } = await read(
      'raw.csv',
      `tenant, email, username, roles, issuer, subject\n` +
        ` t ,A@Example.COM , K\u212aelvin,admin; ops;;,https://idp.test/ ,${subject}\n`,
    );
    expect(errors).toEqual([]);
    expect(rows[0]?.row).toEqual({
      tenant: ' t ',
      email: 'A@Example.COM ',
      username: ' K\u212aelvin',
      roles: ['admin', ' ops'],
      identities: [{ issuer: 'https://idp.test/ ', subject, tenant: ' t ' }],
    });
  });

  it('names unknown header columns on line 1', async () => {
    const { rows, errors } = await read('b.csv', 'tenant,mail\nt,x\n');
    expect(rows).toEqual([]);
    expect(errors[0]).toMatch(/^line 1: unknown column\(s\) mail/);
  });

  it('numbers JSON lines by line, and says which lines are not objects', async () => {
    const { rows, errors } = await read(
      'c.jsonl',
      '{"email":"a@example.com"}\n\n[1]\nnope\n{"email":"b@x.io"}\n',
    );
    expect(rows.map((r) => r.line)).toEqual([1, 5]);
    expect(errors.map((e) => e.split(':')[0])).toEqual(['line 3', 'line 4']);
  });

  it('packs batches by row count and by body size', () => {
    const small: NumberedRow[] = Array.from({ length: 5 }, (_, i) => ({ line: i + 2, row: { i } }));
    expect([...importBatches(small, 2)].map((b) => b.map((r) => r.line))).toEqual([
      [2, 3],
      [4, 5],
      [6],
    ]);
    const big = (line: number): NumberedRow => ({
      line,
      row: { displayName: 'x'.repeat(IMPORT_MAX_BODY_BYTES / 3) },
    });
    const batches = [...importBatches([big(2), big(3), big(4), big(5)], 1000)];
    expect(batches.map((b) => b.length)).toEqual([2, 2]);
    for (const batch of batches)
      expect(
        Buffer.byteLength(JSON.stringify({ rows: batch.map((r) => r.row), dryRun: false })),
      ).toBeLessThan(IMPORT_MAX_BODY_BYTES);
  });
});
