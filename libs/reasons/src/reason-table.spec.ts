import { status } from '@grpc/grpc-js';
import { REASON_CODES, REASON_TABLE, isReasonCode } from '.';

describe('reason table', () => {
  it('maps every reason code exactly once', () => {
    expect(Object.keys(REASON_TABLE).sort()).toEqual([...REASON_CODES].sort());
  });

  it('keeps the design table: 401 UNAUTHENTICATED, 403 PERMISSION_DENIED, 503 UNAVAILABLE', () => {
    for (const reason of REASON_CODES) {
      const p = REASON_TABLE[reason];
      const expected =
        p.httpStatus === 401
          ? status.UNAUTHENTICATED
          : p.httpStatus === 403
            ? status.PERMISSION_DENIED
            : status.UNAVAILABLE;
      expect([reason, p.grpcStatus]).toEqual([reason, expected]);
    }
    expect(REASON_TABLE.USER_DISABLED.httpStatus).toBe(403);
    expect(REASON_TABLE.USER_LOCKED.httpStatus).toBe(403);
    expect(REASON_TABLE.USER_DELETED.httpStatus).toBe(403);
    expect(REASON_TABLE.USER_STORE_UNAVAILABLE.httpStatus).toBe(503);
    expect(REASON_TABLE.KEYS_UNAVAILABLE.outcome).toBe('unavailable');
    expect(REASON_TABLE.USER_NOT_FOUND.outcome).toBe('refused');
  });

  it('answers an overloaded store like an outage on the wire, with its own code and a longer Retry-After', () => {
    const overloaded = REASON_TABLE.USER_STORE_OVERLOADED;
    expect(overloaded).toMatchObject({
      httpStatus: 503,
      grpcStatus: status.UNAVAILABLE,
      outcome: 'unavailable',
    });
    expect(overloaded.retryAfterSeconds).toBeGreaterThan(
      REASON_TABLE.USER_STORE_UNAVAILABLE.retryAfterSeconds as number,
    );
    // Every 503 says when to come back; no refusal does.
    for (const reason of REASON_CODES) {
      const p = REASON_TABLE[reason];
      expect([reason, p.retryAfterSeconds !== undefined]).toEqual([reason, p.httpStatus === 503]);
    }
  });

  it('recognises only known codes', () => {
    expect(isReasonCode('TOKEN_EXPIRED')).toBe(true);
    expect(isReasonCode('token_expired')).toBe(false);
    expect(isReasonCode(42)).toBe(false);
  });
});
