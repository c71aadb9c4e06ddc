import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { DiagnoseSubject } from '@resolver/resolution';
import { AdminCredentialGuard } from '../shared/admin-credential.guard';
import { toDiagnosisJson } from './diagnosis-json';

/**
 * POST /v1/diagnose: explains what ResolveSubject would answer for the body's `token`. The
 * `Authorization` header carries the admin credential, never the token to diagnose. Registered
 * only when an admin credential is configured. Always 200 with the report: the verdict is data.
 */
@Controller('v1')
@UseGuards(AdminCredentialGuard)
export class DiagnoseController {
  constructor(private readonly diagnosis: DiagnoseSubject) {}

  @Post('diagnose')
  @HttpCode(200)
  async diagnose(@Body() body: unknown) {
    const token =
      typeof body === 'object' && body !== null ? (body as { token?: unknown }).token : undefined;
    return toDiagnosisJson(await this.diagnosis.diagnose({ token }));
  }
}
