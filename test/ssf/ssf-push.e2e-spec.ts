import { perSuite } from '../support/per-suite';
import { promtoolCheckMetrics } from '../support/promtool';
import { SsfStreams } from '@resolver/provisioning';
import { iss, SsfWorld } from './ssf-world';

/**
 * Shared Signals push (RFC 8935) on the real app and real Postgres: every event type's default
 * effect, seen on HTTP /v1/resolve, gRPC ResolveSubject, forward-auth and ext_authz, and in
 * diagnose; replays, out-of-order events and per-user ordering. Forged SETs and credential
 * attacks are in ssf-push-attacks.e2e-spec.ts; two replicas in ssf-replicas.e2e-spec.ts.
 */
describe('shared signals: push and actions', () => {
  const w = perSuite(new SsfWorld(), 'ssf_push');
  const step = (d: any, name: string) =>
    JSON.stringify((d.steps as any[]).find((s) => s.step === name));

  it("session-revoked without a session: the user's earlier tokens are TOKEN_REVOKED everywhere, later ones pass, diagnose names the event", async () => {
    const id = await w.seed('sam');
    const before = await w.token('sam', 20);
    expect(await w.answer(before)).toBe('OK');
    const pushed = await w.push({
      type: 'session-revoked',
      subject: iss('sam'),
      payload: { event_timestamp: w.now() - 5 },
    });
    expect(pushed.status).toBe(202);
    expect(await w.answers(before)).toEqual({
      http: 'TOKEN_REVOKED',
      grpc: 'TOKEN_REVOKED',
      forwardAuth: 'TOKEN_REVOKED',
      extAuthz: 'TOKEN_REVOKED',
    });
    expect(await w.answer(await w.token('sam', 0))).toBe('OK');
    expect(step(await w.diagnose(before), 'revocation')).toContain(
      `revoked by session-revoked from okta at`,
    );
    expect(step(await w.diagnose(before), 'revocation')).toContain(`(event ${pushed.jti})`);
    expect((await w.user(id)).tokens_valid_after).not.toBeNull();
  });

  it("session-revoked naming a session: only that session's tokens (and tokens without sid) are refused", async () => {
    await w.seed('sid-user');
    const s1 = await w.token('sid-user', 20, { sid: 's-1' });
    const s2 = await w.token('sid-user', 20, { sid: 's-2' });
    const noSid = await w.token('sid-user', 20);
    for (const t of [s1, s2, noSid]) expect(await w.answer(t)).toBe('OK');
    const pushed = await w.push({
      type: 'session-revoked',
      subject: {
        format: 'complex',
        user: iss('sid-user'),
        session: { format: 'opaque', id: 's-1' },
      },
      payload: { event_timestamp: w.now() - 5 },
    });
    expect(pushed.status).toBe(202);
    expect(await w.answer(s1)).toBe('TOKEN_REVOKED');
    expect(await w.answer(s2)).toBe('OK');
    expect(await w.answer(noSid)).toBe('TOKEN_REVOKED');
    expect(await w.answer(await w.token('sid-user', 0, { sid: 's-1' }))).toBe('OK');
    expect(step(await w.diagnose(s1), 'revocation')).toContain(
      `revoked by session-revoked from okta`,
    );
  });

  it.each(['credential-change', 'credential-compromise', 'account-credential-change-required'])(
    '%s signs the user out everywhere at event_timestamp',
    async (type) => {
      await w.seed(`so-${type}`);
      const before = await w.token(`so-${type}`, 20);
      expect(await w.answer(before)).toBe('OK');
      expect(
        (
          await w.push({
            type,
            subject: iss(`so-${type}`),
            payload: { event_timestamp: w.now() - 5 },
          })
        ).status,
      ).toBe(202);
      expect(await w.answer(before)).toBe('TOKEN_REVOKED');
      expect(await w.answer(await w.token(`so-${type}`, 0))).toBe('OK');
      expect(step(await w.diagnose(before), 'revocation')).toContain(
        `revoked by ${type} from okta`,
      );
    },
  );

  it('token-claims-change drops cached answers and updates the claims JIT maps', async () => {
    const id = await w.seed('claimy', { email: 'old@example.com' });
    const token = await w.token('claimy', 5);
    expect((await w.app.resolveHttp({ token })).body.principal.email).toBe('old@example.com');
    const pushed = await w.push({
      type: 'token-claims-change',
      subject: iss('claimy'),
      payload: { claims: { email: 'new@example.com', name: 'Claimy New', role: 'ignored' } },
    });
    expect(pushed.status).toBe(202);
    const principal = (await w.app.resolveHttp({ token })).body.principal;
    expect(principal).toMatchObject({ email: 'new@example.com', displayName: 'Claimy New' });
    expect((await w.user(id)).email).toBe('new@example.com');
  });

  it.each(['assurance-level-change', 'device-compliance-change', 'risk-level-change'])(
    '%s is recorded only: nothing changes, the metric says recorded',
    async (type) => {
      const id = await w.seed(`rec-${type}`);
      const token = await w.token(`rec-${type}`, 20);
      const before = await w.user(id);
      const payload =
        type === 'device-compliance-change'
          ? { previous_status: 'compliant', current_status: 'not-compliant' }
          : { current_level: 'low', previous_level: 'high' };
      expect((await w.push({ type, subject: iss(`rec-${type}`), payload })).status).toBe(202);
      expect(await w.answer(token)).toBe('OK');
      expect(await w.user(id)).toEqual(before);
      expect(await w.metrics()).toMatch(
        new RegExp(
          `resolver_ssf_events_total\\{transmitter="okta",event="${type}",result="recorded"\\} [1-9]`,
        ),
      );
    },
  );

  it('account-disabled disables through the operator rule; account-enabled enables, never out of an operator lock', async () => {
    await w.seed('dis');
    const token = await w.token('dis', 5);
    expect(
      (
        await w.push({
          type: 'account-disabled',
          subject: iss('dis'),
          payload: { reason: 'hijacking', event_timestamp: w.now() - 30 },
        })
      ).status,
    ).toBe(202);
    expect(await w.answer(token)).toBe('USER_DISABLED');
    expect(step(await w.diagnose(token), 'user')).toContain(
      'disabled by account-disabled from okta',
    );
    expect(
      (
        await w.push({
          type: 'account-enabled',
          subject: iss('dis'),
          payload: { event_timestamp: w.now() - 20 },
        })
      ).status,
    ).toBe(202);
    expect(await w.answer(token)).toBe('OK');

    const locked = await w.seed('locked-one', { status: 'locked' });
    const lockedToken = await w.token('locked-one', 5);
    expect((await w.push({ type: 'account-enabled', subject: iss('locked-one') })).status).toBe(
      202,
    );
    expect(await w.answer(lockedToken)).toBe('USER_LOCKED');
    expect((await w.user(locked)).status).toBe('locked');
    // An operator's disable is not lifted by a transmitter's enable either.
    const opDisabled = await w.seed('op-disabled', { status: 'disabled' });
    expect((await w.push({ type: 'account-enabled', subject: iss('op-disabled') })).status).toBe(
      202,
    );
    expect((await w.user(opDisabled)).status).toBe('disabled');
  });

  it('account-purged soft-deletes the user: USER_DELETED', async () => {
    const id = await w.seed('purge-me');
    const token = await w.token('purge-me', 5);
    expect((await w.push({ type: 'account-purged', subject: iss('purge-me') })).status).toBe(202);
    expect(await w.answer(token)).toBe('USER_DELETED');
    expect((await w.user(id)).deleted_at).not.toBeNull();
  });

  it('identifier-changed re-points the external identity; identifier-recycled unlinks it', async () => {
    const id = await w.seed('old-sub');
    const oldToken = await w.token('old-sub', 5);
    expect(await w.answer(oldToken)).toBe('OK');
    expect(
      (
        await w.push({
          type: 'identifier-changed',
          subject: iss('old-sub'),
          payload: { 'new-value': 'new-sub' },
        })
      ).status,
    ).toBe(202);
    expect(await w.answer(oldToken)).toBe('USER_NOT_FOUND');
    const newToken = await w.token('new-sub', 5);
    expect((await w.app.resolveHttp({ token: newToken })).body.principal.id).toBe(id);

    await w.seed('recycled');
    const recycledToken = await w.token('recycled', 5);
    expect(await w.answer(recycledToken)).toBe('OK');
    expect((await w.push({ type: 'identifier-recycled', subject: iss('recycled') })).status).toBe(
      202,
    );
    expect(await w.answer(recycledToken)).toBe('USER_NOT_FOUND');
  });

  it('maps email subjects by the email lookup, and acknowledges a subject with no user (counted)', async () => {
    await w.seed('by-mail', { email: 'By.Mail@example.com' });
    const token = await w.token('by-mail', 5);
    expect(
      (
        await w.push({
          type: 'account-disabled',
          subject: { format: 'email', email: 'By.Mail@example.com' },
        })
      ).status,
    ).toBe(202);
    expect(await w.answer(token)).toBe('USER_DISABLED');
    expect((await w.push({ type: 'account-disabled', subject: iss('nobody-here') })).status).toBe(
      202,
    );
    expect(await w.metrics()).toMatch(
      /resolver_ssf_events_total\{transmitter="okta",event="account-disabled",result="unmatched"\} [1-9]/,
    );
  });

  it('verification and stream-updated are recorded and shown; an unknown event type is acknowledged and counted', async () => {
    const stream = { format: 'opaque', id: 'stream-1' };
    expect(
      (await w.push({ type: 'verification', subject: stream, payload: { state: 'st-42' } })).status,
    ).toBe(202);
    expect(
      (
        await w.push({
          type: 'stream-updated',
          subject: stream,
          payload: { status: 'paused', reason: 'maintenance' },
        })
      ).status,
    ).toBe(202);
    const { rows } = await w.db.query(`SELECT * FROM ssf_transmitters WHERE name = 'okta'`);
    expect(rows[0]).toMatchObject({
      verification_state: 'st-42',
      stream_status: 'paused',
      stream_status_reason: 'maintenance',
    });
    expect((await w.push({ type: 'urn:example:event:unknown', subject: stream })).status).toBe(202);
    expect(await w.metrics()).toMatch(
      /resolver_ssf_events_total\{transmitter="okta",event="unknown",result="unknown_event"\} [1-9]/,
    );
    expect(
      (await w.push({ type: 'stream-updated', subject: stream, payload: { status: 'enabled' } }))
        .status,
    ).toBe(202);
  });

  it('a replayed SET is acknowledged and changes nothing', async () => {
    const id = await w.seed('replayed');
    const token = await w.token('replayed', 5);
    const disable = await w.tx.mint({
      type: 'account-disabled',
      subject: iss('replayed'),
      payload: { event_timestamp: w.now() - 30 },
    });
    expect((await w.tx.push(w.pushUrl('okta'), disable.set)).status).toBe(202);
    expect(
      (
        await w.push({
          type: 'account-enabled',
          subject: iss('replayed'),
          payload: { event_timestamp: w.now() - 20 },
        })
      ).status,
    ).toBe(202);
    expect(await w.answer(token)).toBe('OK');
    const before = await w.user(id);
    expect((await w.tx.push(w.pushUrl('okta'), disable.set)).status).toBe(202);
    expect(await w.user(id)).toEqual(before);
    expect(await w.answer(token)).toBe('OK');
    expect(await w.metrics()).toMatch(
      /resolver_ssf_events_total\{transmitter="okta",event="account-disabled",result="duplicate"\} [1-9]/,
    );
  });

  it('out-of-order events keep the newer state', async () => {
    await w.seed('ooo');
    const token = await w.token('ooo', 5);
    // The newer "disabled" arrives first; the older "enabled" after it must not undo it.
    expect(
      (
        await w.push({
          type: 'account-disabled',
          subject: iss('ooo'),
          payload: { event_timestamp: w.now() - 10 },
        })
      ).status,
    ).toBe(202);
    expect(
      (
        await w.push({
          type: 'account-enabled',
          subject: iss('ooo'),
          payload: { event_timestamp: w.now() - 60 },
        })
      ).status,
    ).toBe(202);
    expect(await w.answer(token)).toBe('USER_DISABLED');
    expect(await w.metrics()).toMatch(
      /resolver_ssf_events_total\{transmitter="okta",event="account-enabled",result="stale"\} [1-9]/,
    );
    // An older sign-out never moves tokens_valid_after back.
    await w.seed('ooo-signout');
    const early = await w.token('ooo-signout', 30);
    const late = await w.token('ooo-signout', 2);
    expect(
      (
        await w.push({
          type: 'credential-change',
          subject: iss('ooo-signout'),
          payload: { event_timestamp: w.now() - 10 },
        })
      ).status,
    ).toBe(202);
    expect(
      (
        await w.push({
          type: 'credential-change',
          subject: iss('ooo-signout'),
          payload: { event_timestamp: w.now() - 60 },
        })
      ).status,
    ).toBe(202);
    expect(await w.answer(early)).toBe('TOKEN_REVOKED');
    expect(await w.answer(late)).toBe('OK');
  });

  it('writes one audit line per change (actor ssf:<transmitter>), one ssf_event line per SET, never the SET', async () => {
    const id = await w.seed('audited');
    const pushed = await w.push({ type: 'account-disabled', subject: iss('audited') });
    expect(pushed.status).toBe(202);
    const audit = w.logs.filter((l) => l.event === 'admin_change' && l.userId === id);
    expect(audit).toEqual([
      expect.objectContaining({
        actor: 'ssf:okta',
        action: 'ssf.disable',
        detail: expect.objectContaining({ event: 'account-disabled', jti: pushed.jti }),
      }),
    ]);
    const lines = w.logs.filter((l) => l.event === 'ssf_event' && l.jti === pushed.jti);
    expect(lines).toEqual([expect.objectContaining({ result: 'applied', transmitter: 'okta' })]);
    // Subjects are hashed; no line carries a SET or a part of one.
    expect(JSON.stringify(lines)).not.toContain('audited');
    const [header, payload] = pushed.set.split('.');
    for (const line of w.logs) {
      const text = JSON.stringify(line);
      expect(text).not.toContain(payload);
      expect(text).not.toContain(header);
    }
  });

  it('exports the stream gauges and the closed label set of the events counter', async () => {
    const metrics = await w.metrics();
    expect(metrics).toMatch(/resolver_ssf_silence_threshold_seconds\{transmitter="okta"\} 3600/);
    expect(metrics).toMatch(
      /resolver_ssf_events_total\{transmitter="okta",event="session-revoked",result="applied"\} [1-9]/,
    );
    // Exported at zero before anything arrives: dashboards and alerts see every series.
    expect(metrics).toMatch(
      /resolver_ssf_events_total\{transmitter="other",event="account-purged",result="applied"\} 0/,
    );
    expect(metrics).not.toMatch(/resolver_ssf_events_total\{[^}]*event="urn:/);
    // After a stream-updated event the snapshot shows its status; the exposition lints clean.
    await w.app.resolver.app.get(SsfStreams).refresh();
    const live = await w.metrics();
    expect(live).toMatch(/resolver_ssf_stream_status\{transmitter="okta",status="enabled"\} 1/);
    expect(live).toMatch(/resolver_ssf_last_event_age_seconds\{transmitter="okta"\} \d/);
    expect(await promtoolCheckMetrics(live)).toEqual({ code: 0, output: '' });
  });
});
