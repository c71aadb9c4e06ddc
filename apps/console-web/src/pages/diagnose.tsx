import { useEffect, useMemo, useState } from 'preact/hooks';
import type { Api } from '../api';
import { PageTitle } from '../page-title';
import { decodeToken, timeClaims } from '../decode';
import type { Diagnosis, DiagnosisStep, ReasonTable } from '../types';

function Json({ value, label }: { value: unknown; label: string }) {
  return (
    <pre class="json" tabIndex={0} aria-label={label}>
      {JSON.stringify(value, null, 2)}
    </pre>
  );
}

/** Header, payload and times, decoded here; the signature is only counted, never shown. */
function Decoded({ token }: { token: string }) {
  const decoded = useMemo(() => decodeToken(token), [token]);
  const times = timeClaims(decoded.payload, new Date());
  return (
    <section aria-labelledby="decoded-title" class="card">
      <h2 id="decoded-title">Decoded in this page</h2>
      {decoded.problems.length > 0 && (
        <ul class="problems">
          {decoded.problems.map((p) => (
            <li>{p}</li>
          ))}
        </ul>
      )}
      <div class="two">
        <div>
          <h3>Header</h3>
          {decoded.header ? <Json value={decoded.header} label="Token header" /> : <p>—</p>}
        </div>
        <div>
          <h3>Payload</h3>
          {decoded.payload ? <Json value={decoded.payload} label="Token payload" /> : <p>—</p>}
        </div>
      </div>
      {times.length > 0 && (
        <table class="times">
          <caption>Times</caption>
          <thead>
            <tr>
              <th scope="col">Claim</th>
              <th scope="col">At (UTC)</th>
              <th scope="col">Relative</th>
            </tr>
          </thead>
          <tbody>
            {times.map((t) => (
              <tr>
                <th scope="row">
                  {t.label} <code>{t.claim}</code>
                </th>
                <td>{t.absolute}</td>
                <td>{t.relative}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {decoded.note && <p class="muted">{decoded.note}</p>}
      <p class="muted">
        Signature: {decoded.signatureBytes} bytes, not shown. Decoding proves nothing; the diagnosis
        below is the resolver's own check.
      </p>
    </section>
  );
}

function Step({ step }: { step: DiagnosisStep }) {
  const misses = step.details.nearMisses ?? [];
  return (
    <li class={`step ${step.status}`} data-step={step.step}>
      <div class="step-head">
        <span class={`badge ${step.status}`}>{step.status}</span>
        <h3>{step.title}</h3>
        {step.unverified && <span class="muted">(unverified claims)</span>}
      </div>
      <p class="finding">{step.finding}</p>
      {step.fix && (
        <p class="fix">
          <strong>Fix:</strong> {step.fix}
        </p>
      )}
      {misses.length > 0 && (
        <div class="misses">
          <h4>Near misses</h4>
          <ul>
            {misses.map((m) => (
              <li>
                <a href={`#/users/${encodeURIComponent(m.user.id)}`}>
                  Open user {m.user.email ?? m.user.username ?? m.user.id}
                </a>{' '}
                <span class="muted">({m.kind})</span>
                <p>{m.finding}</p>
                <p class="fix">
                  <strong>Fix:</strong> {m.fix}
                </p>
              </li>
            ))}
          </ul>
        </div>
      )}
    </li>
  );
}

function Verdict({
  diagnosis,
  reasons,
}: {
  diagnosis: Diagnosis;
  reasons: ReasonTable | undefined;
}) {
  const v = diagnosis.verdict;
  const grpc = reasons?.[v.reason]?.grpcStatus;
  return (
    <section aria-labelledby="verdict-title" class={`card verdict ${v.outcome}`}>
      <h2 id="verdict-title">Verdict</h2>
      <p class="verdict-reason">
        <code>{v.reason}</code> — {v.title}
      </p>
      <dl class="facts">
        <dt>Outcome</dt>
        <dd>{v.outcome}</dd>
        <dt>HTTP status</dt>
        <dd>{v.httpStatus}</dd>
        <dt>gRPC status</dt>
        <dd>{grpc ? `${grpc.code} ${grpc.name}` : '…'}</dd>
        {v.source && (
          <>
            <dt>Answered from</dt>
            <dd>{v.source}</dd>
          </>
        )}
        <dt>Diagnosed at</dt>
        <dd>{diagnosis.diagnosedAt}</dd>
      </dl>
    </section>
  );
}

/**
 * Paste a token: it is decoded here and sent only in the body of POST /v1/diagnose on this
 * origin. It stays in this component's memory; leaving the page forgets it.
 */
export function DiagnosePage({ api }: { api: Api }) {
  const [token, setToken] = useState('');
  const [diagnosis, setDiagnosis] = useState<Diagnosis | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [reasons, setReasons] = useState<ReasonTable | undefined>();
  useEffect(() => {
    void api.get<ReasonTable>('/console/api/reasons').then(
      (r) => r.ok && setReasons(r.body),
      () => undefined,
    );
  }, [api]);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const answer = await api.call<Diagnosis>('POST', '/v1/diagnose', {
        token: token.trim().replace(/^Bearer\s+/i, ''),
      });
      if (answer.ok) setDiagnosis(answer.body);
      else setError(`The resolver answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <PageTitle>Diagnose a token</PageTitle>
      <p>
        Why was this token refused? The resolver runs every check it would run, changes nothing, and
        says what to fix.
      </p>
      <form method="post" onSubmit={(e) => void submit(e)} class="card">
        <label for="token">Token (JWT) to diagnose</label>
        <textarea
          id="token"
          rows={5}
          spellcheck={false}
          autocomplete="off"
          autocapitalize="off"
          required
          value={token}
          onInput={(e) => {
            setToken(e.currentTarget.value);
            setDiagnosis(undefined);
          }}
        />
        <div class="actions">
          <button type="submit" disabled={busy || !token.trim()}>
            Diagnose
          </button>
          <button
            type="button"
            onClick={() => {
              setToken('');
              setDiagnosis(undefined);
            }}
          >
            Clear
          </button>
        </div>
      </form>
      {token.trim() && <Decoded token={token} />}
      <div aria-live="polite">
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        {diagnosis && (
          <>
            <Verdict diagnosis={diagnosis} reasons={reasons} />
            <section aria-labelledby="steps-title" class="card">
              <h2 id="steps-title">Steps</h2>
              <ol class="steps">
                {diagnosis.steps.map((s) => (
                  <Step step={s} />
                ))}
              </ol>
            </section>
          </>
        )}
      </div>
    </>
  );
}
