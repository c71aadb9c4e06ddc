import { streamStatusInput, transmitterParam, verifyInput } from '@resolver/provisioning';
import { jsonSchemaOf } from '../shared/json-schema';
import { ADMIN, ADMIN_ERRORS, body, json, type Json, op, problem } from './openapi-parts';

/** A configured transmitter's name in the path. */
const name = {
  name: 'name',
  in: 'path',
  required: true,
  schema: jsonSchemaOf(transmitterParam, 'input'),
};

/** The stream as recorded, its state, and (when the transmitter was asked) its configuration. */
const STREAM_VIEW: Json = {
  type: 'object',
  properties: {
    transmitter: { type: 'string' },
    record: { type: 'object', description: 'ssf_streams: id, delivery, verification asked, polls' },
    state: {
      type: ['object', 'null'],
      description: 'ssf_transmitters: stream status, last event, verification received',
    },
    stream: { type: 'object', description: "the transmitter's stream configuration" },
  },
  required: ['transmitter'],
};

const ERRORS = {
  ...ADMIN_ERRORS,
  404: problem('no transmitter of that name (or the admin API is disabled)'),
  502: problem('the transmitter failed or answered badly: `detail` names the call'),
};

const streamOp = (summary: string, operationId: string, extra: Json = {}): Json =>
  op(summary, {
    tags: ['ssf'],
    operationId,
    security: ADMIN,
    parameters: [name],
    responses: { 200: { description: 'the stream', content: json(STREAM_VIEW) }, ...ERRORS },
    ...extra,
  });

/** /admin/v1/ssf/streams: Shared Signals stream management (docs/ssf-streams.md). */
export const SSF_PATHS: Record<string, Json> = {
  '/admin/v1/ssf/streams': {
    get: op("Every configured transmitter's stream, as recorded", {
      tags: ['ssf'],
      operationId: 'ssfStreamList',
      security: ADMIN,
      responses: {
        200: {
          description: 'the streams',
          content: json({
            type: 'object',
            properties: { streams: { type: 'array', items: STREAM_VIEW } },
            required: ['streams'],
          }),
        },
        ...ERRORS,
      },
    }),
  },
  '/admin/v1/ssf/streams/{name}': {
    get: streamOp('Read the stream and its status at the transmitter', 'ssfStreamRead'),
    post: streamOp('Create the stream, or read the one the transmitter holds', 'ssfStreamEnsure'),
  },
  '/admin/v1/ssf/streams/{name}/status': {
    post: streamOp('Ask the transmitter for a stream status', 'ssfStreamStatus', {
      requestBody: body(jsonSchemaOf(streamStatusInput, 'input')),
    }),
  },
  '/admin/v1/ssf/streams/{name}/verify': {
    post: streamOp('Request a verification event', 'ssfStreamVerify', {
      requestBody: body(jsonSchemaOf(verifyInput, 'input'), false),
      responses: {
        202: {
          description: 'requested; the event will echo `state`',
          content: json({
            type: 'object',
            properties: { requested: { type: 'boolean' }, state: { type: 'string' } },
            required: ['requested', 'state'],
          }),
        },
        ...ERRORS,
      },
    }),
  },
  '/admin/v1/ssf/streams/{name}/poll': {
    post: streamOp('Poll the transmitter now (RFC 8936)', 'ssfStreamPoll', {
      responses: {
        200: {
          description: 'polled',
          content: json({
            type: 'object',
            properties: { polled: { type: 'string' }, sets: { type: 'integer' } },
            required: ['polled', 'sets'],
          }),
        },
        ...ERRORS,
        409: problem('another replica polls this transmitter now'),
      },
    }),
  },
};
