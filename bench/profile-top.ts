import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `node dist/bench/profile-top.js <server> "<run>" [<server> "<run>"] [--dir D] [--top N]`:
 * after `npm run bench -- --profile`, the self time of a server's V8 CPU profile cut to one run
 * (bench/results/profiles/windows.json names the runs, e.g. "warm /v1/authz/http"), as server
 * CPU time per request (its share of the busy samples × `--us` µs/request, when given) or as a
 * share. Given two (a scenario and its baseline), prints both side by side and their difference,
 * largest first: what the resolver spends that the bare handler does not.
 */

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface Profile {
  nodes: { id: number; callFrame: CallFrame }[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}
interface Window {
  scenario: string;
  transport: string;
  startUs: number;
  endUs: number;
}

const shortUrl = (url: string) =>
  url.split('/node_modules/').pop()?.split('/dist/').pop()?.replace('node:internal/', '') ?? url;

/** Self time by function (µs) of `server`'s profile within the windows of `run`. */
function selfTimes(dir: string, server: string, run: string): Map<string, number> {
  const windows = (JSON.parse(readFileSync(join(dir, 'windows.json'), 'utf8')) as Window[])
    .filter((w) => `${w.scenario}/${w.transport}` === run)
    .map((w) => [w.startUs, w.endUs] as const);
  if (!windows.length) throw new Error(`no run "${run}" in ${dir}/windows.json`);
  const file = readdirSync(join(dir, server)).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no CPU profile in ${join(dir, server)}`);
  const p = JSON.parse(readFileSync(join(dir, server, file), 'utf8')) as Profile;
  const names = new Map(
    p.nodes.map((n) => {
      const f = n.callFrame;
      return [n.id, `${f.functionName || '(anonymous)'} ${shortUrl(f.url)}:${f.lineNumber + 1}`];
    }),
  );
  const self = new Map<string, number>();
  let t = p.startTime;
  p.samples.forEach((id, i) => {
    t += p.timeDeltas[i] ?? 0;
    if (!windows.some(([a, b]) => t >= a && t <= b)) return;
    const name = names.get(id) ?? '?';
    if (name.startsWith('(idle)')) return;
    self.set(name, (self.get(name) ?? 0) + (p.timeDeltas[i] ?? 0));
  });
  return self;
}

/** Each function's share of the busy time, scaled to `scale` (100 for percent, or µs/request). */
function scaled(self: Map<string, number>, scale: number): Map<string, number> {
  let busy = 0;
  for (const v of self.values()) busy += v;
  return new Map([...self].map(([k, v]) => [k, (scale * v) / busy]));
}

function main(): void {
  const args = process.argv.slice(2);
  const opt = (name: string, fallback: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? (args.splice(i, 2)[1] ?? fallback) : fallback;
  };
  const dir = opt('dir', join(__dirname, '..', '..', 'bench', 'results', 'profiles'));
  const top = Number(opt('top', '25'));
  const us = opt('us', '').split(',').filter(Boolean).map(Number);
  if (args.length !== 2 && args.length !== 4)
    throw new Error('usage: profile-top <server> "<run>" [<server> "<run>"] [--us A,B]');
  const sides = [0, 2]
    .filter((i) => args[i] !== undefined)
    .map((i, n) => scaled(selfTimes(dir, args[i] as string, args[i + 1] as string), us[n] ?? 100));
  const [a, b = new Map<string, number>()] = sides as [Map<string, number>, Map<string, number>?];
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort(
    (x, y) => (a.get(y) ?? 0) - (b.get(y) ?? 0) - ((a.get(x) ?? 0) - (b.get(x) ?? 0)),
  );
  const unit = us.length ? 'µs/request' : '% of busy';
  process.stdout.write(`${unit}: ${args.slice(0, 2).join(' ')}  vs  ${args.slice(2).join(' ')}\n`);
  for (const k of keys.slice(0, top)) {
    const x = a.get(k) ?? 0;
    const y = b.get(k) ?? 0;
    process.stdout.write(
      `${x.toFixed(1).padStart(8)} ${sides.length > 1 ? `${y.toFixed(1).padStart(8)} ${(x - y).toFixed(1).padStart(8)}` : ''}  ${k}\n`,
    );
  }
}

main();
