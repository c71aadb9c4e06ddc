import { of, throwError } from 'rxjs';
import { ResolverGrpcServer } from './resolver-grpc-server';

/** Calls the unary method built around `handler` once and returns what reached grpc-js's callback. */
function callOnce(handler: (...args: unknown[]) => Promise<unknown>) {
  const server = new ResolverGrpcServer({ package: 'x', protoPath: 'x.proto', url: '127.0.0.1:0' });
  type Method = (
    call: { request: unknown; metadata: unknown },
    callback: (error: unknown, value?: unknown) => void,
  ) => void;
  return new Promise<{ error: unknown; value: unknown; calls: number; args: unknown[] }>(
    (resolve) => {
      let calls = 0;
      let args: unknown[] = [];
      const seen = async (...a: unknown[]) => {
        args = a;
        return handler(...a);
      };
      const wrapped = server.createUnaryServiceMethod(seen) as Method;
      wrapped({ request: { token: 't' }, metadata: 'md' }, (error, value) => {
        calls++;
        // Let any second (wrong) call show up before answering.
        setImmediate(() => resolve({ error, value, calls, args }));
      });
    },
  );
}

describe('ResolverGrpcServer unary calls', () => {
  it('hands the handler the request, metadata and call, and its plain value to the callback', async () => {
    const answer = await callOnce(async () => ({ ok: 1 }));
    expect(answer).toMatchObject({ error: null, value: { ok: 1 }, calls: 1 });
    expect(answer.args.slice(0, 2)).toEqual([{ token: 't' }, 'md']);
  });

  it('an exception filter answer (an Observable that errors) becomes the call error', async () => {
    const status = { code: 16, message: 'TOKEN_EXPIRED' };
    const answer = await callOnce(async () => throwError(() => status));
    expect(answer).toMatchObject({ error: status, calls: 1 });
  });

  it('an Observable answer: its first value, once', async () => {
    const answer = await callOnce(async () => of({ n: 1 }, { n: 2 }));
    expect(answer).toMatchObject({ error: null, value: { n: 1 }, calls: 1 });
  });

  it('a rejected handler becomes the call error', async () => {
    const boom = new Error('boom');
    const answer = await callOnce(async () => Promise.reject(boom));
    expect(answer).toMatchObject({ error: boom, calls: 1 });
  });
});
