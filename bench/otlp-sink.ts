import { createServer, type Server } from 'node:http';

/**
 * Where a traced resolver exports in the bench (`--tracing`): an OTLP/HTTP endpoint on
 * 127.0.0.1 that accepts every export and keeps only counts, so the resolver pays for making,
 * encoding and sending its spans, and nothing downstream slows it.
 */
export class OtlpSink {
  private server: Server | undefined;
  exports = 0;
  bytes = 0;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      req.on('data', (chunk: Buffer) => (this.bytes += chunk.length));
      req.on('end', () => {
        this.exports++;
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
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
}
