import fc from 'fast-check';
import { buildConfig, ConfigError } from '.';
import { configFailure as failure } from './testing/config-failure';

const build = (raw: unknown, env: Record<string, string> = {}) =>
  buildConfig(raw, env, { source: 'resolver.yaml', baseDir: '/' });
const external = { database: { url: 'postgres://u:p@db/resolver' } };

describe('tracing configuration (file and OTEL_* variables)', () => {
  it('is off by default, with the standard defaults', () => {
    expect(build(external).tracing).toEqual({
      enabled: false,
      url: 'http://localhost:4318/v1/traces',
      protocol: 'http/protobuf',
      serviceName: 'subject-resolver',
      sampler: 'parentbased_always_on',
      ratio: 1,
      headers: {},
      timeoutMs: 10_000,
      resourceAttributes: {},
    });
  });

  it('reads the file section: the endpoint gets /v1/traces once, a ratio a parent-based sampler', () => {
    const tracing = build({
      ...external,
      tracing: {
        enabled: true,
        endpoint: 'http://collector:4318/',
        protocol: 'http/json',
        serviceName: 'resolver-eu',
        sampleRatio: 0.25,
        headers: { 'x-api-key': 'k' },
        resourceAttributes: { 'deployment.environment': 'prod' },
      },
    }).tracing;
    expect(tracing).toMatchObject({
      enabled: true,
      url: 'http://collector:4318/v1/traces',
      protocol: 'http/json',
      serviceName: 'resolver-eu',
      sampler: 'parentbased_traceidratio',
      ratio: 0.25,
      headers: { 'x-api-key': 'k' },
      resourceAttributes: { 'deployment.environment': 'prod' },
    });
    const full = build({ ...external, tracing: { endpoint: 'https://c.example/otlp/v1/traces' } });
    expect(full.tracing.url).toBe('https://c.example/otlp/v1/traces');
  });

  it('lets the OTEL_* variables win, the traces-specific ones over the general ones', () => {
    const tracing = build(
      {
        ...external,
        tracing: { enabled: false, endpoint: 'http://file:4318', headers: { a: '1' } },
      },
      {
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://general:4318',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_HEADERS: 'a=2,b=x%20y',
        OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'b=3',
        OTEL_SERVICE_NAME: 'from-env',
        OTEL_TRACES_SAMPLER: 'traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.5',
        OTEL_EXPORTER_OTLP_TIMEOUT: '2000',
        OTEL_RESOURCE_ATTRIBUTES: 'k8s.pod.name=p-1,team=id%2Cauth',
      },
    ).tracing;
    expect(tracing).toEqual({
      enabled: true,
      url: 'http://general:4318/v1/traces',
      protocol: 'http/json',
      serviceName: 'from-env',
      sampler: 'traceidratio',
      ratio: 0.5,
      headers: { a: '2', b: '3' },
      timeoutMs: 2000,
      resourceAttributes: { 'k8s.pod.name': 'p-1', team: 'id,auth' },
    });
    const specific = build(external, {
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://general:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://traces:9999/custom',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf',
    }).tracing;
    // The traces endpoint is used as given (the specification's rule), the base gets the path.
    expect(specific).toMatchObject({ url: 'http://traces:9999/custom', protocol: 'http/protobuf' });
  });

  it('OTEL_SDK_DISABLED and OTEL_TRACES_EXPORTER=none turn it off whatever the file says', () => {
    const on = { ...external, tracing: { enabled: true } };
    expect(build(on).tracing.enabled).toBe(true);
    expect(build(on, { OTEL_SDK_DISABLED: 'true' }).tracing.enabled).toBe(false);
    expect(build(on, { OTEL_TRACES_EXPORTER: 'none' }).tracing.enabled).toBe(false);
    expect(
      build(external, { OTEL_TRACES_EXPORTER: 'otlp', OTEL_SDK_DISABLED: 'true' }).tracing.enabled,
    ).toBe(false);
    // An endpoint alone does not turn tracing on (off by default, unlike a bare SDK).
    expect(build(external, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }).tracing.enabled).toBe(
      false,
    );
  });

  it('names the field or variable of a bad value, and never quotes a header value', () => {
    expect(failure(() => build({ ...external, tracing: { sampleRatio: 2 } }))).toMatch(
      /^resolver\.yaml: tracing\.sampleRatio: /,
    );
    expect(failure(() => build({ ...external, tracing: { endpoint: 'collector:4318' } }))).toMatch(
      /tracing\.endpoint: must be an http\(s\) URL/,
    );
    expect(failure(() => build({ ...external, tracing: { exporter: 'zipkin' } }))).toMatch(
      /tracing\.exporter: unknown field/,
    );
    expect(
      failure(() => build({ ...external, tracing: { headers: { 'bad name': 'x' } } })),
    ).toMatch(/tracing\.headers/);
    expect(failure(() => build(external, { OTEL_TRACES_EXPORTER: 'zipkin' }))).toBe(
      'OTEL_TRACES_EXPORTER: must be otlp or none, got "zipkin"',
    );
    expect(failure(() => build(external, { OTEL_TRACES_SAMPLER_ARG: '1.5' }))).toMatch(
      /^OTEL_TRACES_SAMPLER_ARG: must be a ratio between 0 and 1/,
    );
    expect(
      failure(() =>
        build(external, { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }),
      ),
    ).toMatch(/^OTEL_EXPORTER_OTLP_PROTOCOL: OTLP over gRPC is not supported/);
    const secret = failure(() =>
      build(external, { OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20s3cr3t,broken' }),
    );
    expect(secret).toMatch(/^OTEL_EXPORTER_OTLP_HEADERS: entry 2 /);
    expect(secret).not.toContain('s3cr3t');
  });

  it('parses any OTEL_EXPORTER_OTLP_HEADERS into own header entries or refuses it, never echoing it', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (text) => {
        let headers: Readonly<Record<string, string>> | undefined;
        try {
          headers = build(external, { OTEL_EXPORTER_OTLP_HEADERS: text }).tracing.headers;
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigError);
          const message = (error as Error).message;
          // The whole message is the fixed wording with an entry number: nothing of the text
          // is echoed. (Testing "does not contain the text" failed for texts the wording itself
          // holds, such as "name".)
          expect(message).toMatch(
            /^OTEL_EXPORTER_OTLP_HEADERS: entry \d+ is not a header name=percent-encoded value$/,
          );
          return;
        }
        expect(Object.getPrototypeOf(headers)).toBe(Object.prototype);
        for (const [k, v] of Object.entries(headers)) {
          expect(k).toMatch(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/);
          expect(v).not.toMatch(/[\r\n]/);
        }
      }),
    );
    const polluted = build(external, { OTEL_EXPORTER_OTLP_HEADERS: '__proto__=x,constructor=y' });
    expect(Object.keys(polluted.tracing.headers).sort()).toEqual(['__proto__', 'constructor']);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});
