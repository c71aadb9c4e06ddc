import { readTlsMaterial, type TlsFiles, type TlsMaterial } from '@resolver/config';
import type { Listener, TlsMetrics } from '@resolver/observability';

export interface ReloaderOptions {
  readonly listener: Listener;
  readonly files: TlsFiles;
  readonly intervalMs: number;
  readonly metrics: TlsMetrics;
  /** Puts new material in use for new connections (existing ones keep theirs). */
  readonly apply: (material: TlsMaterial) => void;
  readonly warn: (line: string) => void;
  readonly info: (line: string) => void;
}

/**
 * Keeps a listener's certificate current: the files are read again every `intervalMs` (cheap:
 * a few KiB), and when their bytes changed and the new set can serve (see `readTlsMaterial`:
 * every certificate parses, the key is the leaf's) it is applied; a set that cannot serve —
 * a half-finished rotation, a wrong key — is refused and the old one kept until the files are
 * right. Polling rather than file events: Kubernetes replaces a mounted secret by swapping a
 * symlink, which inotify watches on the old files never see.
 */
export class CertificateReloader {
  private timer: NodeJS.Timeout | undefined;
  private lastFailure: string | undefined;
  private current: TlsMaterial;

  constructor(
    private readonly options: ReloaderOptions,
    initial: TlsMaterial = readTlsMaterial(options.files),
  ) {
    this.current = initial;
    options.metrics.inUse(options.listener, initial.notAfter, initial.caNotAfter);
    if (initial.notAfter.getTime() <= Date.now())
      options.warn(
        `${options.listener}: the serving certificate in ${options.files.certFile} expired at ${initial.notAfter.toISOString()}`,
      );
  }

  /** What the listener serves with now. */
  get material(): TlsMaterial {
    return this.current;
  }

  start(): void {
    this.timer ??= setInterval(() => this.check(), this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One look at the files; true when new material was applied. */
  check(): boolean {
    const { listener, files, metrics } = this.options;
    let next: TlsMaterial;
    try {
      next = readTlsMaterial(files);
      if (next.digest === this.current.digest) {
        this.lastFailure = undefined;
        return false;
      }
      this.options.apply(next);
    } catch (error) {
      // Counted on every look while it lasts (an alert sees a rotation stuck), logged once per
      // distinct problem (a rotation in progress must not fill the log every interval).
      const message = (error as Error).message;
      metrics.reloads.labels(listener, 'failure').inc();
      if (message !== this.lastFailure)
        this.options.warn(
          `${listener}: certificate reload refused, still serving the previous one: ${message}`,
        );
      this.lastFailure = message;
      return false;
    }
    this.lastFailure = undefined;
    this.current = next;
    metrics.reloads.labels(listener, 'success').inc();
    metrics.inUse(listener, next.notAfter, next.caNotAfter);
    this.options.info(
      `${listener}: certificate reloaded from ${files.certFile} (valid until ${next.notAfter.toISOString()})`,
    );
    return true;
  }
}
