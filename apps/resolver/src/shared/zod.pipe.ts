import type { ArgumentMetadata, PipeTransform } from '@nestjs/common';
import { parseInput } from '@resolver/provisioning';
import type { z } from 'zod';

/**
 * Validates one admin input (body, query or path parameter) against its zod schema at the
 * controller edge and hands the use case the schema's typed output. A refusal is an
 * `AdminError` INVALID naming the first bad field (`roles[1]`, `id`), which the one error path
 * answers as 400 problem+json. A path parameter is named by itself (`id: must be a UUID`).
 */
export class ZodPipe<S extends z.ZodType> implements PipeTransform<unknown, z.output<S>> {
  constructor(private readonly schema: S) {}

  transform(value: unknown, metadata: ArgumentMetadata): z.output<S> {
    return parseInput(this.schema, value, metadata.type === 'param' ? metadata.data : undefined);
  }
}
