import type { Server as TlsServer } from 'node:tls';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Server } from '@grpc/grpc-js';
import type { FastifyInstance } from 'fastify';
import {
  type HttpTlsConfig,
  readTlsMaterial,
  RESOLVER_CONFIG,
  type ResolverConfig,
  type TlsMaterial,
} from '@resolver/config';
import {
  type Listener,
  ResolverLogger,
  ResolverMetrics,
  TlsMetrics,
} from '@resolver/observability';
import { CallerPolicy, type Peer } from './caller-policy';
import { CertificateReloader } from './certificate-reloader';
import { guardTlsServer, RefusalLog } from './connection-guard';
import {
  grpcHttp2Servers,
  grpcRefusal,
  grpcRefusalStatus,
  GrpcPeers,
  ReloadableServerCredentials,
} from './grpc-tls';
import { enforceHttpCallers, secureContextOptions } from './http-tls';

/** What a unary call wrapper needs to refuse a call for its caller (absent: nothing to check). */
export type GrpcCallGuard = (call: {
  getPath(): string;
  getPeer(): string;
  metadata: import('@grpc/grpc-js').Metadata;
  request: unknown;
}) => ReturnType<typeof grpcRefusalStatus> | undefined;

/**
 * Transport security for both listeners: the TLS material and its reloading, the connection
 * guard (client certificates judged and counted), and which caller may use which surface. With
 * no `tls` config it adds nothing to either listener.
 */
@Injectable()
export class TransportSecurity implements OnModuleDestroy {
  readonly policy: CallerPolicy;
  readonly metrics: TlsMetrics;
  private readonly refusals: RefusalLog;
  private readonly reloaders: CertificateReloader[] = [];
  private readonly grpcPeers = new GrpcPeers();
  private grpcCredentials: ReloadableServerCredentials | undefined;
  private grpcMaterial: TlsMaterial | undefined;

  constructor(
    @Inject(RESOLVER_CONFIG) private readonly config: ResolverConfig,
    metrics: ResolverMetrics,
    private readonly logger: ResolverLogger,
  ) {
    const { tls } = config;
    this.policy = new CallerPolicy(tls);
    const listeners = (['http', 'grpc'] as const).filter((l) => tls[l] !== undefined);
    this.metrics = new TlsMetrics(metrics.registry, listeners, this.policy.enforced);
    this.refusals = new RefusalLog((line) => logger.pino.warn({ event: 'tls_refused' }, line));
  }

  /**
   * Guards the HTTP listener (before it listens): the connection guard and the reloader on its
   * TLS server when it serves TLS, the per-request caller check when callers are configured.
   * `material` is what the server was created with.
   */
  secureHttp(server: unknown, fastify: FastifyInstance, material: TlsMaterial | undefined): void {
    const listener = this.config.tls.http;
    if (listener && material) {
      const tlsServer = server as TlsServer;
      guardTlsServer(tlsServer, this.guardOptions('http', listener.clientCertificate));
      this.reload('http', listener, material, (next) =>
        tlsServer.setSecureContext(secureContextOptions(next, listener)),
      );
    }
    if (this.policy.enforced)
      enforceHttpCallers(fastify, this.policy, this.metrics, this.config.domain);
  }

  /**
   * The gRPC listener's credentials: reloadable TLS (without a certificate until
   * {@link secureGrpc}), or undefined for plaintext when there is no `tls.grpc`.
   */
  grpcServerCredentials(): ReloadableServerCredentials | undefined {
    const listener = this.config.tls.grpc;
    if (!listener) return undefined;
    this.grpcMaterial ??= readTlsMaterial(listener);
    return (this.grpcCredentials ??= new ReloadableServerCredentials(listener));
  }

  /**
   * Guards grpc-js's TLS servers once bound, then gives them their certificate: until then
   * grpc-js closes every connection, so none is served before the guard is on.
   */
  secureGrpc(server: Server): void {
    const listener = this.config.tls.grpc;
    const credentials = this.grpcCredentials;
    const material = this.grpcMaterial;
    if (!listener || !credentials || !material) return;
    const options = this.guardOptions('grpc', listener.clientCertificate);
    for (const http2 of grpcHttp2Servers(server))
      guardTlsServer(http2, {
        ...options,
        admitted: (socket, peer) => this.grpcPeers.admit(socket, peer),
      });
    credentials.update(material);
    this.reload('grpc', listener, material, (next) => credentials.update(next));
  }

  /** The caller of a gRPC call's connection (`call.getPeer()`), as the connection guard found it. */
  grpcPeer(callPeer: string): Peer {
    return this.grpcPeers.of(callPeer);
  }

  /** The per-call caller check, when callers are configured. */
  grpcCallGuard(): GrpcCallGuard | undefined {
    if (!this.policy.enforced) return undefined;
    return (call) => {
      const refusal = grpcRefusal(this.policy, this.grpcPeers, call);
      if (!refusal) return undefined;
      this.metrics.refused('grpc', refusal);
      return grpcRefusalStatus(refusal);
    };
  }

  onModuleDestroy(): void {
    for (const reloader of this.reloaders) reloader.stop();
  }

  private guardOptions(listener: Listener, mode: HttpTlsConfig['clientCertificate']) {
    return { listener, mode, policy: this.policy, metrics: this.metrics, log: this.refusals };
  }

  private reload(
    listener: Listener,
    files: NonNullable<ResolverConfig['tls']['grpc']>,
    material: TlsMaterial,
    apply: (material: TlsMaterial) => void,
  ): void {
    const reloader = new CertificateReloader(
      {
        listener,
        files,
        intervalMs: this.config.tls.reloadIntervalMs,
        metrics: this.metrics,
        apply,
        warn: (line) => this.logger.pino.warn({ event: 'tls_reload' }, line),
        info: (line) => this.logger.pino.info({ event: 'tls_reload' }, line),
      },
      material,
    );
    reloader.start();
    this.reloaders.push(reloader);
  }
}
