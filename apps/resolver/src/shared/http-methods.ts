import type { HTTPMethods } from 'fastify';

/** Every method a route can answer, in the order a 405's `Allow` lists them. */
export const HTTP_METHODS: HTTPMethods[] = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
];
