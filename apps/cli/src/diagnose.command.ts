import { parseArgs } from 'node:util';
import type { ResolverConfig } from '@resolver/config';
import { AdminClient } from './admin-client';
import { readStdin } from './stdin';

export const DIAGNOSE_USAGE = `diagnose (asks the resolver at RESOLVER_URL with ADMIN_TOKEN; no side effects):
  diagnose <token|->  [--json | --table]
      explains why a token would be refused: a table on a terminal (coloured), JSON when piped
      or with --json; --table forces the table (without colour). "-" reads the token from stdin.
      Exit status: 0 when the verdict is OK, 1 when the token would be refused, 2 on usage errors.`;

interface Step {
  step: string;
  title: string;
  status: 'pass' | 'fail' | 'warn' | 'skip';
  finding: string;
  fix?: string;
  unverified?: boolean;
}

interface DiagnosisJson {
  diagnosedAt: string;
  verdict: { reason: string; outcome: string; httpStatus: number; title: string; source?: string };
  steps: Step[];
}

const COLOURS = { pass: '\x1b[32m', fail: '\x1b[31m', warn: '\x1b[33m', skip: '\x1b[90m' };
const RESET = '\x1b[0m';

/** `diagnose <token|->` */
export async function diagnoseCommand(args: string[], config: ResolverConfig): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { json: { type: 'boolean' }, table: { type: 'boolean' } },
  });
  const [source] = positionals;
  if (!source || positionals.length > 1 || (values.json && values.table)) {
    process.stderr.write(`${DIAGNOSE_USAGE}\n`);
    return 2;
  }
  const token = (source === '-' ? await readStdin() : source).trim();
  const diagnosis = await new AdminClient(config).request<DiagnosisJson>('POST', '/v1/diagnose', {
    token,
  });
  const tty = process.stdout.isTTY === true;
  if (values.json || (!tty && !values.table)) {
    process.stdout.write(`${JSON.stringify(diagnosis, null, 2)}\n`);
  } else {
    process.stdout.write(renderTable(diagnosis, tty));
  }
  return diagnosis.verdict.reason === 'OK' ? 0 : 1;
}

/** The report as a fixed-width table; colour only for a terminal. */
export function renderTable(d: DiagnosisJson, colour: boolean): string {
  const paint = (status: Step['status'], text: string) =>
    colour ? `${COLOURS[status]}${text}${RESET}` : text;
  const width = Math.max(...d.steps.map((s) => s.title.length));
  const lines = [`${'#'.padStart(2)}  ${'step'.padEnd(width)}  status  finding`];
  d.steps.forEach((s, i) => {
    lines.push(
      `${String(i + 1).padStart(2)}  ${s.title.padEnd(width)}  ${paint(s.status, s.status.toUpperCase().padEnd(6))}  ${s.unverified ? '[unverified] ' : ''}${s.finding}`,
    );
    if (s.fix) lines.push(`${' '.repeat(width + 14)}fix: ${s.fix}`);
  });
  const ok = d.verdict.reason === 'OK';
  lines.push(
    '',
    paint(
      ok ? 'pass' : 'fail',
      `verdict: ${d.verdict.reason}${ok ? ` (${d.verdict.source ?? ''})` : ` — ${d.verdict.title} (HTTP ${d.verdict.httpStatus})`}`,
    ),
  );
  return `${lines.join('\n')}\n`;
}
