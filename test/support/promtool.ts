import { spawn } from 'node:child_process';

/** `promtool check metrics` on an exposition text: its exit code and everything it printed. */
export function promtoolCheckMetrics(
  metrics: string,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('promtool', ['check', 'metrics']);
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('close', (code) => resolve({ code, output }));
    child.stdin.end(metrics);
  });
}
