import { createUserInput, idParam } from '@resolver/provisioning';
import { ZodPipe } from './zod.pipe';

describe('ZodPipe', () => {
  it('hands over the typed output of the schema', () => {
    expect(
      new ZodPipe(createUserInput).transform({ email: 'Ann@Example.com' }, { type: 'body' }),
    ).toMatchObject({ email: 'ann@example.com', tenant: '', roles: [], identities: [] });
  });

  it('refuses with INVALID naming the field, or the path parameter itself', () => {
    expect(() =>
      new ZodPipe(createUserInput).transform({ roles: ['ok', 5] }, { type: 'body' }),
    ).toThrow(expect.objectContaining({ kind: 'INVALID', field: 'roles[1]' }));
    expect(() =>
      new ZodPipe(idParam).transform('not-a-uuid', { type: 'param', data: 'identityId' }),
    ).toThrow(
      expect.objectContaining({
        kind: 'INVALID',
        field: 'identityId',
        message: 'identityId: must be a UUID',
      }),
    );
  });
});
