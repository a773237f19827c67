import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startTestApp, tokenFor, type TestApp } from './helpers/app.js';

let api: TestApp;

beforeAll(async () => {
  api = await startTestApp();
});
afterAll(async () => {
  await api?.close();
});

/** The routes Koa actually serves, read from the router mounted in the app (HEAD is Koa's automatic twin of GET). */
function servedRoutes(app: TestApp['built']['app']): Array<{ method: string; path: string }> {
  const mounted = app.middleware.map((m: any) => m.router).filter(Boolean);
  expect(mounted).toHaveLength(1);
  return mounted[0].stack.flatMap((layer: { path: string; methods: string[] }) =>
    layer.methods.filter((m) => m !== 'HEAD').map((m) => ({ method: m.toLowerCase(), path: layer.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}') })),
  );
}

const errorRef = { $ref: '#/components/schemas/Error' };
const operationsOf = (doc: any) =>
  Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((k) => ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'].includes(k))
      .map((method) => ({ method, path })),
  );

describe('system routes', () => {
  it('when /healthz is asked, then 200 {status: ok} with a request id', async () => {
    const res = await api.request('GET', '/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });

  it('when /readyz is asked with the database up, then 200 names the engine', async () => {
    const res = await api.request('GET', '/readyz');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ready', engine: inject('engine') });
    expect(res.body.description).toBeTypeOf('string');
  });

  it('when /metrics is scraped after some requests, then it is Prometheus text counting them by route and status', async () => {
    await api.request('GET', '/healthz');
    await api.request('GET', '/v1/members/nobody', { token: tokenFor('ops', 'ops-1') });
    const res = await api.request('GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.text).toContain('# TYPE http_requests_total counter');
    expect(res.text).toMatch(/^http_requests_total\{method="GET",route="\/healthz",status="200"\} [1-9]\d*$/m);
    expect(res.text).toMatch(/^http_requests_total\{method="GET",route="\/v1\/members\/:memberId",status="404"\} 1$/m);
    expect(res.text).toContain('# TYPE http_request_duration_seconds histogram');
    expect(res.text).toMatch(/^http_request_duration_seconds_count\{method="GET",route="\/healthz"\} [1-9]\d*$/m);
    expect(res.text).toContain('# TYPE ledger_commands_total counter');
    expect(res.text).toContain('process_cpu_user_seconds_total');
  });
});

describe('OpenAPI document', () => {
  let doc: any;
  beforeAll(async () => {
    const res = await api.request('GET', '/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    doc = res.body;
  });

  it('when /openapi.json is fetched, then it is a valid OpenAPI 3.1 document', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc)); // resolveRefs() below rewrites what it was given
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    expect(() => validator.resolveRefs()).not.toThrow();
  });

  it('when the document is compared with the routes Koa serves, then each served route is described and nothing else is', async () => {
    const served = servedRoutes(api.built.app);
    expect(served.length).toBeGreaterThanOrEqual(11);
    const key = (r: { method: string; path: string }) => `${r.method} ${r.path}`;
    expect(operationsOf(doc).map(key).sort()).toEqual(served.map(key).sort());
    expect(JSON.parse(JSON.stringify(api.built.openapi()))).toEqual(doc);
  });

  it('when the members and system routes are looked up, then they carry their parameters, bodies and error responses', () => {
    for (const [path, method] of [
      ['/v1/members', 'post'],
      ['/v1/members/{memberId}', 'get'],
      ['/v1/members/{memberId}', 'patch'],
      ['/v1/me', 'get'],
      ['/healthz', 'get'],
      ['/readyz', 'get'],
      ['/metrics', 'get'],
      ['/openapi.json', 'get'],
      ['/docs', 'get'],
    ] as const) {
      expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    }

    const register = doc.paths['/v1/members'].post;
    expect(register.requestBody.required).toBe(true);
    expect(register.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/CreateMember' });
    expect(register.security).toEqual([{ bearer: [] }]);
    for (const status of ['400', '401', '403', '409', '413', '415', '503']) {
      expect(register.responses[status]?.content['application/json'].schema, `POST /v1/members ${status}`).toEqual(errorRef);
    }

    for (const method of ['get', 'patch']) {
      const op = doc.paths['/v1/members/{memberId}'][method];
      const param = op.parameters.find((p: any) => p.name === 'memberId');
      expect(param).toMatchObject({ in: 'path', required: true, schema: { type: 'string', maxLength: 64 } });
      for (const status of ['400', '401', '403', '404', '503']) {
        expect(op.responses[status]?.content['application/json'].schema, `${method} /v1/members/{memberId} ${status}`).toEqual(errorRef);
      }
    }
    const patch = doc.paths['/v1/members/{memberId}'].patch;
    expect(patch.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/UpdateMember' });
    expect(patch.responses['409'].content['application/json'].schema).toEqual(errorRef);

    const me = doc.paths['/v1/me'].get;
    expect(me.responses['200'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/MemberWithSummary' });
    expect(me['x-roles']).toEqual(['member']);
    expect(me.responses['401'].content['application/json'].schema).toEqual(errorRef);

    expect(doc.paths['/healthz'].get.security).toBeUndefined();
    expect(doc.paths['/readyz'].get.responses['503'].content['application/json'].schema).toEqual(errorRef);
  });

  it('when the Error schema is read, then it is the one error shape of the contract', () => {
    const error = doc.components.schemas.Error;
    expect(error.required).toEqual(expect.arrayContaining(['error', 'requestId']));
    expect(Object.keys(error.properties.error.properties).sort()).toEqual(['code', 'details', 'message']);
    expect(error.properties.error.required.sort()).toEqual(['code', 'message']);
    expect(doc.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  });

  it('when the request schemas are read, then bodies are strict (unknown keys are refused)', () => {
    expect(doc.components.schemas.CreateMember.additionalProperties).toBe(false);
    expect(doc.components.schemas.CreateMember.required).toEqual(['memberId']);
    expect(doc.components.schemas.UpdateMember.additionalProperties).toBe(false);
  });
});

describe('API docs page', () => {
  it('when /docs is opened, then it is HTML that loads Swagger UI from this server only', async () => {
    const res = await api.request('GET', '/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.text).toContain('src="/docs/assets/swagger-ui-bundle.js"');
    expect(res.text).toContain('href="/docs/assets/swagger-ui.css"');
    expect(res.text).not.toMatch(/(?:src|href)\s*=\s*["']?(?:https?:)?\/\//i);
    expect(res.text).not.toMatch(/https?:\/\//i);

    const referenced = [...res.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(referenced.length).toBeGreaterThanOrEqual(4);
    for (const url of referenced) {
      const asset = await api.request('GET', url);
      expect(asset.status, url).toBe(200);
      expect(asset.text.length, url).toBeGreaterThan(0);
    }
  });

  it('when the Swagger UI bundle and start-up script are fetched, then they are served as JavaScript and point at /openapi.json', async () => {
    const bundle = await api.request('GET', '/docs/assets/swagger-ui-bundle.js');
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-type')).toMatch(/^application\/javascript/);
    expect(bundle.text).toContain('SwaggerUIBundle');

    const init = await api.request('GET', '/docs/init.js');
    expect(init.status).toBe(200);
    expect(init.headers.get('content-type')).toMatch(/^application\/javascript/);
    expect(init.text).toContain("'/openapi.json'");
    expect(init.text).not.toMatch(/https?:\/\//);

    const css = await api.request('GET', '/docs/assets/swagger-ui.css');
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
  });

  it('when an asset that is not shipped is asked for, then 404 NOT_FOUND', async () => {
    const res = await api.request('GET', '/docs/assets/index.html');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NOT_FOUND');
  });
});
