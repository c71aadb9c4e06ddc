import { z } from 'zod';

/** A zod schema as a plain JSON Schema (draft 2020-12) without the `$schema` marker. */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output' = 'output') {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' });
  return rest;
}
