import { OpenAPIRegistry, OpenApiGeneratorV31, extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { rateLimitGroupOf, type Route } from './http/route.js';

extendZodWithOpenApi(z);

export const errorSchema = z
  .object({
    error: z.object({
      code: z.string().meta({ example: 'VALIDATION_FAILED' }),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
    requestId: z.string(),
  })
  .meta({ id: 'Error' });

const errorDescriptions: Record<number, string> = {
  400: 'VALIDATION_FAILED (details.issues names the failing paths) or MALFORMED_JSON',
  401: 'UNAUTHENTICATED: missing, invalid or expired token',
  403: 'FORBIDDEN: the role may not do this',
  404: 'NOT_FOUND',
  409: 'a business conflict; the code says which',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED: over a rate limit (details.limit names it); retry after Retry-After seconds',
  503: 'UNAVAILABLE: the database is unreachable',
};

/** What a 429 answers with besides the error: Retry-After, and the IETF fields (draft-ietf-httpapi-ratelimit-headers). */
const rateLimitedHeaders = z.object({
  'Retry-After': z.number().int().min(1).meta({ description: 'Seconds until the refusing limit resets' }),
  'RateLimit-Policy': z.string().meta({ description: 'Each limit the request counted against, e.g. `"member";q=120;w=60` (q requests per window of w seconds); also on allowed answers' }),
  RateLimit: z.string().meta({ description: 'What is left of each limit, e.g. `"member";r=0;t=12` (r requests remaining, reset in t seconds); also on allowed answers' }),
});

const idempotencyKeyHeader = z.object({
  'idempotency-key': z.string().min(1).max(128).meta({ description: 'Required: 1–128 printable characters, scoped to the caller, kept ≥ 24 h.' }),
});

/** Builds the OpenAPI 3.1 document from the same route definitions the server runs. */
export function buildOpenApiDocument(routes: Route[]): object {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  for (const route of routes) {
    const responses: Record<string, { description: string; content?: Record<string, { schema: z.ZodType }>; headers?: typeof rateLimitedHeaders }> = {};
    for (const [status, r] of Object.entries(route.responses)) {
      responses[status] = {
        description: r.description,
        ...(r.schema ? { content: { [r.contentType ?? 'application/json']: { schema: r.schema } } } : {}),
      };
    }
    const errors = new Set<number>([...(route.errors ?? [])]);
    if (route.request?.body || route.request?.query || route.request?.params) errors.add(400);
    if (route.request?.body) [413, 415].forEach((s) => errors.add(s));
    if (route.auth !== 'public') [401, 403, 503].forEach((s) => errors.add(s));
    const limited = rateLimitGroupOf(route) !== 'none';
    if (limited) errors.add(429);
    for (const status of [...errors].sort()) {
      responses[String(status)] ??= { description: errorDescriptions[status] ?? 'error', content: { 'application/json': { schema: errorSchema } } };
    }
    if (limited) (responses['429'] as { headers?: typeof rateLimitedHeaders }).headers = rateLimitedHeaders;
    registry.registerPath({
      method: route.method,
      path: route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}'),
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      tags: [route.tag],
      ...(route.auth === 'public' ? {} : { security: [{ bearer: [] }], 'x-roles': route.auth }),
      ...(route.readOnly ? { 'x-read-only': true } : {}),
      request: {
        ...(route.request?.params ? { params: route.request.params } : {}),
        ...(route.request?.query ? { query: route.request.query } : {}),
        ...(route.idempotent === true ? { headers: idempotencyKeyHeader } : {}),
        ...(route.request?.body
          ? { body: { required: !route.request.body.safeParse(undefined).success, content: { 'application/json': { schema: route.request.body } } } }
          : {}),
      },
      responses,
    });
  }
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Loyalty service',
      version: '0.1.0',
      description: 'Membership, points and referral loyalty service. Errors share one shape; see the Error schema.',
    },
    servers: [{ url: '/' }],
  });
}
