import { InitialSchema1763884800000 } from './1763884800000-initial-schema';
import { ChangeNotifications1763971200000 } from './1763971200000-change-notifications';
import { EmailAsciiFold1764806400000 } from './1764806400000-email-ascii-fold';
import { ScimProvisioning1764892800000 } from './1764892800000-scim-provisioning';
import { IdentifierNamespaces1764979200000 } from './1764979200000-identifier-namespaces';
import { StatusDecisions1765065600000 } from './1765065600000-status-decisions';
import { JitProvisionFunction1765152000000 } from './1765152000000-jit-provision-function';
import { DpopProofReplay1765238400000 } from './1765238400000-dpop-proof-replay';
import { SharedSignals1765310000000 } from './1765310000000-shared-signals';
import { SsfStreams1765320000000 } from './1765320000000-ssf-streams';

/** Every migration, in order. Listed explicitly so the same list works from ts and from dist. */
export const MIGRATIONS = [
  InitialSchema1763884800000,
  ChangeNotifications1763971200000,
  EmailAsciiFold1764806400000,
  ScimProvisioning1764892800000,
  IdentifierNamespaces1764979200000,
  StatusDecisions1765065600000,
  JitProvisionFunction1765152000000,
  DpopProofReplay1765238400000,
  SharedSignals1765310000000,
  SsfStreams1765320000000,
];
