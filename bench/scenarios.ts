import type { Scenario } from './scenario';
import { burst } from './scenario-burst';
import { cold, hang } from './scenario-cold';
import { dpop } from './scenario-dpop';
import { opaque } from './scenario-opaque';
import { formats } from './scenario-formats';
import { fullmiss, store } from './scenario-store';
import { jit } from './scenario-jit';
import { warm } from './scenario-warm';

/** Every scenario of `npm run bench`, in the order a round runs them (options.ts SCENARIOS). */
export const ALL_SCENARIOS: readonly Scenario[] = [
  warm,
  dpop,
  opaque,
  cold,
  formats,
  hang,
  store,
  fullmiss,
  jit,
  burst,
];
