import { parseArgs } from 'node:util';
import type { ResolverConfig } from '@resolver/config';
import { AdminClient } from './admin-client';

export const SSF_USAGE = `shared signals streams (admin API at RESOLVER_URL with ADMIN_TOKEN):
  ssf streams                         every configured transmitter's stream, as recorded
  ssf stream NAME [--create]          read the stream at the transmitter (--create: create it,
                                      or read the one it holds)
  ssf status NAME enable|pause|disable [--reason R]   ask the transmitter for a stream status
  ssf verify NAME [--state S]         request a verification event (S echoed; random if unset)
  ssf poll NAME                       poll now (on the replica that polls; 409 elsewhere)`;

const STATUS = { enable: 'enabled', pause: 'paused', disable: 'disabled' } as const;

const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);

function usage(message: string): number {
  process.stderr.write(`${message}\n\n${SSF_USAGE}\n`);
  return 2;
}

/** `ssf …`: Shared Signals stream management through /admin/v1/ssf/streams. */
export async function ssfCommand(args: string[], config: ResolverConfig): Promise<number> {
  const [verb = '', ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      create: { type: 'boolean', default: false },
      reason: { type: 'string' },
      state: { type: 'string' },
    },
  });
  const [name, action] = positionals;
  if (verb === 'streams') {
    print(await new AdminClient(config).call('GET', '/ssf/streams'));
    return 0;
  }
  if (!['stream', 'status', 'verify', 'poll'].includes(verb))
    return usage(`unknown ssf verb ${JSON.stringify(verb)}`);
  if (!name) return usage(`ssf ${verb} needs the transmitter's NAME`);
  const client = new AdminClient(config);
  const path = `/ssf/streams/${encodeURIComponent(name)}`;
  switch (verb) {
    case 'stream':
      print(await client.call(values.create ? 'POST' : 'GET', path));
      return 0;
    case 'status': {
      const status = STATUS[action as keyof typeof STATUS] as string | undefined;
      if (!Object.hasOwn(STATUS, action ?? '') || status === undefined)
        return usage('ssf status NAME needs enable, pause or disable');
      print(await client.call('POST', `${path}/status`, { status, reason: values.reason }));
      return 0;
    }
    case 'verify':
      print(await client.call('POST', `${path}/verify`, { state: values.state }));
      return 0;
    default:
      print(await client.call('POST', `${path}/poll`));
      return 0;
  }
}
