import { setFlagsFromString } from 'node:v8';

/**
 * V8 flags the resolver process runs with, set before anything else is loaded (this module is
 * main.ts's first import; cluster workers run main.ts too). They are not allowed in
 * NODE_OPTIONS, hence here.
 *
 * `--no-allocation-site-pretenuring`: V8 decides per allocation site to allocate straight into
 * old space once objects from that site were seen surviving young-generation collections. On
 * the resolver's request path the decision is wrong: per-request objects (the resolution's
 * frames, the store row and its dates) went to old space, so a major GC ran every 2-3 s under
 * load and its marking stalled the event loop for up to 140 ms. Measured with
 * `npm run bench -- --scenarios store --transports http` (docs/benchmarking.md): with the flag,
 * no major GC at all during the store runs; without it, one every 1-2 s.
 */
setFlagsFromString('--no-allocation-site-pretenuring');
