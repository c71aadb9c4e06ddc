import { readFile } from 'node:fs/promises';

/** One import row as the admin API takes it. */
export type ImportRow = Record<string, unknown>;

/** A row and the line of the file it starts on (1-based; a CSV header is line 1). */
export interface NumberedRow {
  readonly line: number;
  readonly row: ImportRow;
}

/**
 * Reads users from JSON lines (`.jsonl`/`.ndjson`) or CSV with a header row. CSV columns:
 * tenant, email, username, displayName, roles (`;`-separated), status, kind, issuer, subject
 * (issuer + subject become one external identity). Every problem, here or from the API later,
 * is reported as `line N` of the file, in both formats.
 */
export async function readImportFile(
  path: string,
): Promise<{ rows: NumberedRow[]; errors: string[] }> {
  const text = await readFile(path, 'utf8');
  return /\.(jsonl|ndjson)$/i.test(path) ? parseJsonLines(text) : parseCsv(text);
}

function parseJsonLines(text: string): { rows: NumberedRow[]; errors: string[] } {
  const rows: NumberedRow[] = [];
  const errors: string[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (!line.trim()) return;
    try {
      const value = JSON.parse(line) as unknown;
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        throw new Error('not an object');
      rows.push({ line: i + 1, row: value as ImportRow });
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

function parseCsv(text: string): { rows: NumberedRow[]; errors: string[] } {
  const records = csvRecords(text);
  // Column names (not values) may carry spaces after the commas, as many files are written.
  const header = (records.shift()?.fields ?? []).map((h) => h.trim());
  const unknown = header.filter((h) => !CSV_COLUMNS.includes(h));
  if (unknown.length)
    return {
      rows: [],
      errors: [
        `line 1: unknown column(s) ${unknown.join(', ')}; expected ${CSV_COLUMNS.join(', ')}`,
      ],
    };
  const rows: NumberedRow[] = [];
  const errors: string[] = [];
  for (const { line, fields } of records) {
    if (fields.every((v) => v.trim() === '')) continue; // a blank line, not a row
    // A short row would silently import its missing columns as empty (a shifted file, a lost
    // quote): refuse it, and a long one too.
    if (fields.length !== header.length) {
      errors.push(
        `line ${line}: has ${fields.length} column${fields.length === 1 ? '' : 's'}, the header has ${header.length}`,
      );
      continue;
    }
    // Every value is sent exactly as the file holds it: no trim, no case fold, no normalisation.
    // A value the server's rules refuse (a subject wrapped in U+00A0, say) comes back as that
    // row's rejection; a client that rewrote it would link someone the IdP does not know.
    const v = Object.fromEntries(header.map((h, i) => [h, fields[i] ?? '']));
    const row: ImportRow = {};
    for (const key of ['tenant', 'email', 'username', 'displayName', 'status', 'kind'])
      if (v[key]) row[key] = v[key];
    // Roles are `;`-separated; an empty entry (`a;;b`, a trailing `;`) names no role.
    if (v.roles) row.roles = v.roles.split(';').filter((r) => r !== '');
    if (v.issuer || v.subject)
      row.identities = [{ issuer: v.issuer, subject: v.subject, tenant: v.tenant ?? '' }];
    rows.push({ line, row });
  }
  return { rows, errors };
}

/**
 * RFC 4180 records, each with the line it starts on: quoted fields may hold commas, quotes ("")
 * and newlines.
 */
function csvRecords(text: string): { line: number; fields: string[] }[] {
  const records: { line: number; fields: string[] }[] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  let line = 1;
  let start = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else {
        if (c === '\n') line++;
        field += c;
      }
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      record.push(field);
      records.push({ line: start, fields: record });
      record = [];
      field = '';
      line++;
      start = line;
    } else field += c;
  }
  if (field !== '' || record.length) {
    record.push(field);
    records.push({ line: start, fields: record });
  }
  return records;
}
