// Minimal typing for the parts of autocannon the benchmark uses.
declare module 'autocannon' {
  interface Histogram {
    p50: number;
    p99: number;
    p99_9: number;
    average: number;
  }
  interface Result {
    requests: { average: number; total: number };
    latency: Histogram;
    errors: number;
    timeouts: number;
    non2xx: number;
    duration: number;
  }
  interface Options {
    url: string;
    connections?: number;
    duration?: number;
    amount?: number;
    overallRate?: number;
    method?: string;
    headers?: Record<string, string>;
    requests?: { setupRequest?: (req: { headers?: Record<string, string> }) => unknown }[];
  }
  function autocannon(options: Options): Promise<Result>;
  export = autocannon;
}
