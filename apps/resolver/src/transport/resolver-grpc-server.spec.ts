import { of, throwError } from 'rxjs';
import { Metadata } from '@grpc/grpc-js';
import { hardenGrpcDefinitions } from './grpc-hardening';
import { throwLaneFault } from './lane-fault';
import { ResolverGrpcServer, withLane } from './resolver-grpc-server';

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

describe('withLane: a method with a lane in front of its full path', () => {
  type Answer = { error: unknown; value: unknown; full: number };
  const call = (lane: (r: unknown) => object | undefined, request: unknown = { token: 't' }) =>
    new Promise<Answer>((resolve) => {
      let full = 0;
      const method = withLane(lane, (_call, callback) => {
        full++;
        callback(null, { from: 'full' });
      });
      method({ request, metadata: new Metadata() }, (error, value) =>
        resolve({ error, value, full }),
      );
    });

  it("answers with the lane's answer, without the full path", async () => {
    expect(await call(() => ({ from: 'lane' }))).toEqual({
      error: null,
      value: { from: 'lane' },
      full: 0,
    });
  });

  it('takes the full path when the lane has no answer', async () => {
    expect(await call(() => undefined)).toMatchObject({ value: { from: 'full' }, full: 1 });
  });

  it('a lane that fails hands its error to the full path, whose handler throws it first', async () => {
    const bug = new Error('a bug in the lane');
    let thrown: unknown;
    const method = withLane(
      () => {
        throw bug;
      },
      (c, callback) => {
        try {
          throwLaneFault(c);
          callback(null, { from: 'full' });
        } catch (error) {
          thrown = error;
          callback(error);
        }
      },
    );
    const call = { request: { token: 't' }, metadata: new Metadata() };
    const error = await new Promise((resolve) => method(call, (e) => resolve(e)));
    expect(error).toBe(bug);
    expect(thrown).toBe(bug);
    // Thrown once: the carrier is clean for anything after.
    expect(() => throwLaneFault(call)).not.toThrow();
  });

  it('never asks the lane about a request that did not decode', async () => {
    const pkg = {
      'x.S': {
        M: {
          path: '/x.S/M',
          requestDeserialize: (_bytes: Buffer): unknown => {
            throw new Error('bad bytes');
          },
          responseSerialize: () => Buffer.alloc(0),
        },
      },
    };
    hardenGrpcDefinitions(pkg as never, { record: () => undefined } as never);
    const malformed = pkg['x.S'].M.requestDeserialize(Buffer.alloc(1));
    let asked = 0;
    const answer = await call(() => {
      asked++;
      return { from: 'lane' };
    }, malformed);
    expect(asked).toBe(0);
    expect(answer.full).toBe(1);
  });
});
