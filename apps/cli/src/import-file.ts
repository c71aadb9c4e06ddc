import { readFile } from 'node:fs/promises';

/** One import row as the admin API takes it. */
export type ImportRow = Record<string, unknown>;

/**
 * Reads users from JSON lines (`.jsonl`/`.ndjson`) or CSV with a header row. CSV columns:
 * tenant, email, username, displayName, roles (`;`-separated), status, kind, issuer, subject
 * (issuer + subject become one external identity). Unparseable lines are reported by number.
 */
export async function readImportFile(
  path: string,
): Promise<{ rows: ImportRow[]; errors: string[] }> {
  const text = await readFile(path, 'utf8');
  return /\.(jsonl|ndjson)$/i.test(path) ? parseJsonLines(text) : parseCsv(text);
}

function parseJsonLines(text: string): { rows: ImportRow[]; errors: string[] } {
  const rows: ImportRow[] = [];
  const errors: string[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (!line.trim()) return;
    try {
      const value = JSON.parse(line) as unknown;
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        throw new Error('not an object');
      rows.push(value as ImportRow);
    } catch (error) {
      errors.push(`line ${i + 1}: ${(error as Error).message}`);
    }
  });
  return { rows, errors };
}

const CSV_COLUMNS = [
  'tenant',
  'email',
  'username',
  'displayName',
  'roles',
  'status',
  'kind',
  'issuer',
  'subject',
];

function parseCsv(text: string): { rows: ImportRow[]; errors: string[] } {
  const records = csvRecords(text);
  const header = (records.shift() ?? []).map((h) => h.trim());
  const unknown = header.filter((h) => !CSV_COLUMNS.includes(h));
  if (unknown.length)
    return {
      rows: [],
      errors: [
        `header: unknown column(s) ${unknown.join(', ')}; expected ${CSV_COLUMNS.join(', ')}`,
      ],
    };
  const rows: ImportRow[] = [];
  for (const record of records) {
    if (record.every((v) => v.trim() === '')) continue;
    const v = Object.fromEntries(header.map((h, i) => [h, (record[i] ?? '').trim()]));
    const row: ImportRow = {};
    for (const key of ['tenant', 'email', 'username', 'displayName', 'status', 'kind'])
      if (v[key]) row[key] = v[key];
    if (v.roles)
      row.roles = v.roles
        .split(';')
        .map((r) => r.trim())
        .filter(Boolean);
    if (v.issuer || v.subject)
      row.identities = [{ issuer: v.issuer, subject: v.subject, tenant: v.tenant ?? '' }];
    rows.push(row);
  }
  return { rows, errors: [] };
}

/** RFC 4180 records: quoted fields may hold commas, quotes ("") and newlines. */
function csvRecords(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      record.push(field);
      records.push(record);
      record = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || record.length) {
    record.push(field);
    records.push(record);
  }
  return records;
}
