import { type DynamicModule, Module } from '@nestjs/common';
import { IdentityModule } from '@resolver/identity';
import type { DevIssuer } from '@resolver/tokens';
import { AdminModule } from './admin/admin.module';
import { AuthzModule } from './authz/authz.module';
import { ConsoleModule } from './console/console.module';
import type { BootConfig } from './core/boot-config';
import { CoreModule, type CoreParts } from './core/core.module';
import { DevIssuerModule } from './dev-issuer/dev-issuer.module';
import { DiagnoseModule } from './diagnose/diagnose.module';
import { HealthModule } from './health/health.module';
import { OpenApiModule } from './openapi/openapi.module';
import { ResolveModule } from './resolve/resolve.module';
import { ScimModule } from './scim/scim.module';
import { SsfModule } from './ssf/ssf.module';
import { SsfStreamsModule } from './ssf-streams/ssf-streams.module';
import { ErrorPathModule } from './shared/errors/error-path.module';
import { TransportModule } from './transport/transport.module';

/** What the bootstrap settles before Nest can start: see `startResolver`. */
export interface AppParts extends CoreParts {
  readonly config: BootConfig;
  /** Embedded mode only. */
  readonly devIssuer?: DevIssuer;
}

/**
 * The composition root: the resolver's features over the shared core, each optional feature
 * imported exactly when the validated config asks for it.
 */
@Module({})
export class AppModule {
  static forRoot({ config, devIssuer, ...parts }: AppParts): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CoreModule.forRoot(config, parts),
        IdentityModule.forRoot(config.database),
        TransportModule,
        ErrorPathModule,
        ResolveModule,
        AuthzModule.forRoot(config),
        DiagnoseModule.forRoot(config),
        AdminModule.forRoot(config),
        HealthModule,
        OpenApiModule,
        // The operator console exists exactly when the admin API does, with the same credential.
        ...(config.admin ? [ConsoleModule] : []),
        // SCIM exists only when a SCIM client is configured.
        ...(config.scim.clients.length ? [ScimModule] : []),
        // The Shared Signals receiver exists only when a transmitter is configured.
        ...(config.ssf.transmitters.length ? [SsfModule] : []),
        // Shared Signals stream management and polling exist only when a transmitter is configured.
        ...(config.ssf.transmitters.length ? [SsfStreamsModule.forRoot(config)] : []),
        ...(devIssuer ? [DevIssuerModule.forRoot(devIssuer)] : []),
      ],
    };
  }
}
