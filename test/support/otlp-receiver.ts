import { createServer, type Server } from 'node:http';

/** One span as an OTLP/JSON export carries it, flattened. */
export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly name: string;
  /** OTLP's SpanKind: 1 internal, 2 server, 3 client. */
  readonly kind: number;
  readonly attributes: Record<string, unknown>;
  readonly status: { code?: number; message?: string };
  readonly service: unknown;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
}
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}
const valueOf = (v: OtlpValue) =>
  v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : (v.boolValue ?? v.doubleValue));
const attributes = (list: OtlpAttribute[] | undefined) =>
  Object.fromEntries((list ?? []).map((a) => [a.key, valueOf(a.value)]));

/**
 * An OTLP/HTTP trace receiver on 127.0.0.1, in the test process: accepts `POST /v1/traces` in
 * either encoding, keeps every body as received (for greps over the raw bytes), and decodes the
 * JSON ones into spans.
 */
export class OtlpReceiver {
  private server: Server | undefined;
  readonly bodies: { contentType: string; body: Buffer }[] = [];
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method !== 'POST' || req.url !== '/v1/traces') {
          res.writeHead(404).end();
          return;
        }
        const contentType = String(req.headers['content-type'] ?? '');
        this.bodies.push({ contentType, body: Buffer.concat(chunks) });
        if (contentType.includes('json'))
          res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        else res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  /** Every span of every JSON export received so far. */
  spans(): ReceivedSpan[] {
    const out: ReceivedSpan[] = [];
    for (const { contentType, body } of this.bodies) {
      if (!contentType.includes('json')) continue;
      const doc = JSON.parse(body.toString('utf8')) as {
        resourceSpans: {
          resource?: { attributes?: OtlpAttribute[] };
          scopeSpans: {
            spans: (Omit<ReceivedSpan, 'attributes' | 'service'> & {
              attributes?: OtlpAttribute[];
            })[];
          }[];
        }[];
      };
      for (const rs of doc.resourceSpans) {
        const service = attributes(rs.resource?.attributes)['service.name'];
        for (const ss of rs.scopeSpans)
          for (const s of ss.spans)
            out.push({
              ...s,
              parentSpanId: s.parentSpanId ?? '',
              attributes: attributes(s.attributes),
              service,
            });
      }
    }
    return out;
  }

  /** Everything received, as text (protobuf bodies as latin1: their strings are raw UTF-8). */
  rawText(): string {
    return this.bodies.map((b) => b.body.toString('latin1')).join('\n');
  }
}
