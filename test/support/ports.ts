import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * The first port of the kernel's ephemeral range: below it, no outgoing connection (a fetch, a
 * pg client, a helper process) is ever given a port as its local end, so a port found free
 * there stays free until the suite binds it, unless another suite picks the same one.
 */
function ephemeralLow(): number {
  try {
    const low = Number(
      readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').split(/\s+/)[0],
    );
    return Number.isInteger(low) && low > 21_000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

const LOW = 20_000;
const HIGH = ephemeralLow();
/** Ports this process already handed out: never twice, even after their server closed. */
const handedOut = new Set<number>();

function listenOn(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : undefined;
      server.close(() => resolve(bound));
    });
  });
}

/**
 * A TCP port free on 127.0.0.1 right now. It is picked at random below the ephemeral range
 * (see {@link ephemeralLow}): a port the OS picks with `listen(0)` comes from the same range as
 * every outgoing connection's local port, and a suite under load lost such a port to one in the
 * moment between this check and the resolver's bind (EADDRINUSE). Random, so that concurrent
 * Jest workers rarely pick alike; the harnesses retry the rare collision that is left.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 64; attempt++) {
    const candidate = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if (handedOut.has(candidate)) continue;
    const bound = await listenOn(candidate);
    if (bound !== undefined) {
      handedOut.add(bound);
      return bound;
    }
  }
  const bound = await listenOn(0);
  if (bound === undefined) throw new Error('no free TCP port on 127.0.0.1');
  handedOut.add(bound);
  return bound;
}

/** True for the resolver's own "port is in use" boot error (EADDRINUSE, said in words). */
export function isPortInUse(error: unknown): boolean {
  return /port is in use|EADDRINUSE/.test(String((error as Error)?.message ?? error));
}
