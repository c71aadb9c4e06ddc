import { GrpcLanes, keepingEncodings, keptResponse } from './grpc-lanes';

/** A response kept for a fresh answer object, as the controllers keep theirs. */
const sentAgain = <T extends object>(response: T): T => keptResponse({}, () => response);

/** A serializer that counts its calls and, like protobufjs, writes into a shared pool. */
function countingSerializer() {
  const pool = Buffer.alloc(8192);
  let offset = 0;
  const serialize = jest.fn((value: unknown) => {
    const text = Buffer.from(JSON.stringify(value) ?? 'undefined');
    const bytes = pool.subarray(offset, offset + text.length);
    text.copy(bytes);
    offset += text.length;
    return bytes;
  });
  return serialize;
}

describe('kept encodings of shared gRPC answers', () => {
  it('encodes a response marked sentAgain once, and sends the same bytes every time', () => {
    const serialize = countingSerializer();
    const keep = keepingEncodings(serialize);
    const response = sentAgain({ principal: { id: 'u1' }, source: 'CACHE' });
    const first = keep(response);
    expect(keep(sentAgain(response))).toBe(first);
    expect(keep(sentAgain(response))).toBe(first);
    expect(serialize).toHaveBeenCalledTimes(1);
    expect(JSON.parse(first.toString())).toEqual(response);
  });

  it('keeps a copy in its own memory, never a slice of the encoder pool', () => {
    const serialize = countingSerializer();
    const kept = keepingEncodings(serialize)(sentAgain({ a: 1 }));
    const encoded = serialize.mock.results[0]?.value as Buffer;
    expect(kept).not.toBe(encoded);
    expect(kept.equals(encoded)).toBe(true);
    expect(kept.byteOffset).toBe(0);
    expect(kept.buffer.byteLength).toBe(kept.length);
  });

  it('encodes every other response every time, as the plain serializer does', () => {
    const serialize = countingSerializer();
    const keep = keepingEncodings(serialize);
    const response = { principal: { id: 'u2' } };
    keep(response);
    const again = keep(response);
    expect(serialize).toHaveBeenCalledTimes(2);
    expect(again).toBe(serialize.mock.results[1]?.value);
    for (const value of [null, undefined, 'text', 7]) keep(value);
    expect(serialize).toHaveBeenCalledTimes(6);
  });

  it('keeps one response per answer, and forgets one that cannot be encoded (a fault is never kept)', () => {
    const answer = {};
    let built = 0;
    const build = () => ({ n: ++built });
    const first = keptResponse(answer, build);
    expect(keptResponse(answer, build)).toBe(first);
    const failing = keepingEncodings(() => {
      throw new Error('cannot encode');
    });
    expect(() => failing(first)).toThrow('cannot encode');
    const again = keptResponse(answer, build);
    expect(again).not.toBe(first);
    expect(built).toBe(2);
    const bytes = keepingEncodings(countingSerializer())(again);
    expect(JSON.parse(bytes.toString())).toEqual({ n: 2 });
  });

  it('wraps a serializer once, however often a server is built around the same definition', () => {
    const keep = keepingEncodings(countingSerializer());
    expect(keepingEncodings(keep)).toBe(keep);
  });

  it('a lane is added once per method path', () => {
    const lanes = new GrpcLanes();
    const lane = () => undefined;
    lanes.add('/p.S/M', lane);
    expect(lanes.of('/p.S/M')).toBe(lane);
    expect(() => lanes.add('/p.S/M', lane)).toThrow(/already added/);
    expect(lanes.of('/p.S/Other')).toBeUndefined();
  });
});
