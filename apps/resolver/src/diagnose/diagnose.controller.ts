import { Body, Controller, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { DiagnoseSubject, presentedFromFields } from '@resolver/resolution';
import { AdminCredentialGuard } from '../shared/admin-credential.guard';
import { ClientCertificates } from '../transport/tls/client-certificates';
import { toDiagnosisJson } from './diagnosis-json';

/**
 * POST /v1/diagnose: explains what ResolveSubject would answer for the body's `token`. The
 * `Authorization` header carries the admin credential, never the token to diagnose. Registered
 * only when an admin credential is configured. Always 200 with the report: the verdict is data.
 *
 * For a sender-constrained token the body also says what the request carried, in
 * POST /v1/resolve's fields (`dpopProof`, `method`, `uri`, `clientCertificate`) and `scheme`
 * (`Bearer` or `DPoP`); a certificate is believed on the same terms as /v1/resolve's field from
 * this caller, so the diagnosis predicts what that resolve would answer.
 */
@Controller('v1')
@UseGuards(AdminCredentialGuard)
export class DiagnoseController {
  constructor(
    private readonly diagnosis: DiagnoseSubject,
    private readonly certificates: ClientCertificates,
  ) {}

  @Post('diagnose')
  @HttpCode(200)
  async diagnose(@Body() body: unknown, @Req() request: FastifyRequest) {
    const fields = typeof body === 'object' && body !== null ? body : {};
    const report = await this.diagnosis.diagnose({
      token: own(fields, 'token'),
      scheme: own(fields, 'scheme'),
      // Read only by the binding step, as ResolveSubject reads it: a bad field is its refusal.
      presented: () => {
        const presented = presentedFromFields({
          dpopProof: own(fields, 'dpopProof'),
          method: own(fields, 'method'),
          uri: own(fields, 'uri'),
          clientCertificate: own(fields, 'clientCertificate'),
        });
        const input = { headers: request.headers, socket: request.raw.socket };
        return {
          ...presented,
          ...this.certificates.ofResolveHttp(input, presented.clientCertificate),
        };
      },
    });
    return toDiagnosisJson(report);
  }
}

/** A body member as an own property only. */
function own(fields: object, name: string): unknown {
  return Object.hasOwn(fields, name) ? (fields as Record<string, unknown>)[name] : undefined;
}
