import { readFileSync } from 'node:fs';
import path from 'node:path';
import { getAbsoluteFSPath } from 'swagger-ui-dist';
import { z } from 'zod';
import type { Connection } from 'mongoose';
import { pingDatabase } from '../db/connection.js';
import { AppError } from '../errors.js';
import type { Metrics } from '../metrics.js';
import { defineRoute, type Route } from './route.js';

const swaggerDir = getAbsoluteFSPath();
const assets = new Map(
  ['swagger-ui.css', 'swagger-ui-bundle.js', 'swagger-ui-standalone-preset.js', 'favicon-32x32.png'].map((f) => [
    f,
    readFileSync(path.join(swaggerDir, f)),
  ]),
);
const assetTypes: Record<string, string> = { '.css': 'text/css', '.js': 'application/javascript', '.png': 'image/png' };

const docsPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Loyalty service API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"><link rel="icon" href="/docs/assets/favicon-32x32.png"></head>
<body><div id="ui"></div><script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script></body></html>`;
const docsInit = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#ui', deepLinking: true });`;

const readySchema = z.object({ status: z.literal('ready'), engine: z.string(), description: z.string() }).meta({ id: 'Readiness' });

export type SystemDeps = {
  db: Connection;
  engine: { name: string; description: string };
  /** Absent when METRICS_ENABLED=false: /metrics answers 404. */
  metrics: Metrics | undefined;
  timeoutMs: number;
  openapi: () => object;
};

/** Liveness, readiness, metrics and the API description; all public. */
export function systemRoutes(deps: SystemDeps): Route[] {
  return [
    defineRoute({
      method: 'get', path: '/healthz', tag: 'system', auth: 'public', summary: 'The process is up',
      responses: { 200: { description: 'up', schema: z.object({ status: z.literal('ok') }) } },
      handler: () => ({ status: 200, body: { status: 'ok' } }),
    }),
    defineRoute({
      method: 'get', path: '/readyz', tag: 'system', auth: 'public', summary: 'The database is reachable; names the engine',
      responses: { 200: { description: 'ready', schema: readySchema } },
      errors: [503],
      handler: async () => {
        if (!(await pingDatabase(deps.db, deps.timeoutMs))) {
          throw new AppError(503, 'UNAVAILABLE', 'the database is unreachable', { engine: deps.engine.name });
        }
        return { status: 200, body: { status: 'ready', engine: deps.engine.name, description: deps.engine.description } };
      },
    }),
    defineRoute({
      method: 'get', path: '/metrics', tag: 'system', auth: 'public', summary: 'Prometheus metrics',
      responses: { 200: { description: 'Prometheus text format', schema: z.string(), contentType: 'text/plain' } },
      errors: [404],
      handler: async () => {
        if (!deps.metrics) throw new AppError(404, 'NOT_FOUND', 'metrics are turned off (METRICS_ENABLED=false)');
        return { status: 200, body: await deps.metrics.registry.metrics(), headers: { 'Content-Type': deps.metrics.registry.contentType } };
      },
    }),
    defineRoute({
      method: 'get', path: '/openapi.json', tag: 'system', auth: 'public', summary: 'This OpenAPI document',
      responses: { 200: { description: 'OpenAPI 3.1', schema: z.record(z.string(), z.unknown()) } },
      handler: () => ({ status: 200, body: deps.openapi() }),
    }),
    defineRoute({
      method: 'get', path: '/docs', tag: 'system', auth: 'public', summary: 'Browsable API documentation (Swagger UI, served locally)',
      responses: { 200: { description: 'HTML page', schema: z.string(), contentType: 'text/html' } },
      handler: () => ({ status: 200, body: docsPage, headers: { 'Content-Type': 'text/html; charset=utf-8' } }),
    }),
    defineRoute({
      method: 'get', path: '/docs/init.js', tag: 'system', auth: 'public', summary: 'Swagger UI start-up script',
      responses: { 200: { description: 'script', schema: z.string(), contentType: 'application/javascript' } },
      handler: () => ({ status: 200, body: docsInit, headers: { 'Content-Type': 'application/javascript' } }),
    }),
    defineRoute({
      method: 'get', path: '/docs/assets/:file', tag: 'system', auth: 'public', summary: 'Swagger UI assets',
      request: { params: z.object({ file: z.string().max(64) }) },
      responses: { 200: { description: 'asset' } },
      errors: [404],
      handler: ({ params }) => {
        const asset = assets.get(params.file);
        if (!asset) throw new AppError(404, 'NOT_FOUND', 'asset not found');
        return { status: 200, body: asset, headers: { 'Content-Type': assetTypes[path.extname(params.file)] ?? 'application/octet-stream', 'Cache-Control': 'public, max-age=86400' } };
      },
    }),
  ];
}
