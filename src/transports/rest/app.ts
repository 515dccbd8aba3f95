import { randomUUID } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Hippocampus } from '../../actors/hippocampus/coordinator.js';
import { CmpError } from '../../cmp/errors.js';
import { parseExport, parseImport } from '../../cmp/requests.js';
import type { StoreHealth } from '../../runtime/supervised-store.js';
import type { ConsoleAssets } from '../console/assets.js';
import { consoleRoutes } from '../console/routes.js';
import type { McpHttp } from '../mcp/http.js';
import type { Metrics } from '../metrics.js';
import { CMP_OPERATIONS, type OperationName, type OperationResult } from '../operations.js';
import { rateLimit, requireApiKey, restCors, type Security } from '../security/index.js';
import { toEnvelope } from './errors.js';

// The reference-compatible REST binding under /v1 (DESIGN §2.10). Each handler decodes, makes one
// call on the hippocampus and encodes; request ids and errors are handled once, here at the edge.

export interface RestAppOptions {
  hippocampus: Hippocampus;
  health: () => StoreHealth[];
  log?: (line: string) => void;
  /** Largest request body accepted (bytes); larger ones get CONTENT_TOO_LARGE. */
  maxBodyBytes: number;
  /** MCP over Streamable HTTP, served at /mcp. */
  mcp?: McpHttp;
  /** Prometheus metrics at /metrics, when enabled. */
  metrics?: Metrics;
  /** Auth, rate limit and CORS (reference spec §6.1); none when absent (in-process tests). */
  security?: Security;
  /** The web console's files, served at /console (issue 15); no console when absent. */
  consoleAssets?: ConsoleAssets;
}

type Env = { Variables: { requestId: string } };

export function createRestApp({ hippocampus, health, log, maxBodyBytes, mcp, metrics, security, consoleAssets }: RestAppOptions): Hono<Env> {
  const app = new Hono<Env>();

  app.use(async function requestId(c, next) {
    const id = c.req.header('x-request-id') ?? randomUUID();
    c.set('requestId', id);
    await next();
    c.header('X-Request-Id', id);
  });

  app.onError(function cmpErrorHandler(error, c) {
    const cmpError = CmpError.from(error);
    if (cmpError.code === 'INTERNAL_ERROR') log?.(`request ${c.get('requestId')}: ${String(cmpError.cause ?? cmpError)}`);
    const { status, body } = toEnvelope(cmpError, c.get('requestId'));
    if (body.retry_after !== null) c.header('Retry-After', String(body.retry_after));
    c.header('X-Request-Id', c.get('requestId'));
    return c.json(body, status as 400);
  });

  // CORS first, so a preflight is answered before auth (spec §6.1). Then, on API routes, the rate
  // limiter before auth, so unauthenticated floods are throttled too; /health and /readiness are open.
  const corsMiddleware = security && restCors(security);
  if (corsMiddleware) app.use(corsMiddleware);
  if (security) {
    for (const path of ['/v1/*', '/mcp']) {
      app.use(path, rateLimit(security));
      app.use(path, requireApiKey(security));
    }
  }

  const limitBody = bodyLimit({
    maxSize: maxBodyBytes,
    onError: () => {
      throw new CmpError('CONTENT_TOO_LARGE', `body: request body exceeds ${maxBodyBytes} bytes`, { field: 'body' });
    },
  });
  app.use('/v1/*', limitBody);
  if (mcp) {
    app.use('/mcp', limitBody);
    app.all('/mcp', (c) => mcp.handle(c.req.raw));
  }

  app.notFound((c) => {
    throw new CmpError('VALIDATION_ERROR', `No route for ${c.req.method} ${c.req.path}`);
  });

  app.get('/health', (c) => c.json({ status: 'ok' }));
  if (consoleAssets) consoleRoutes(app, consoleAssets);
  if (metrics) app.get('/metrics', async (c) => c.body(await metrics.text(), 200, { 'content-type': metrics.contentType }));
  app.get('/readiness', (c) => {
    const stores = health();
    const ready = stores.every((store) => store.state === 'ready');
    return c.json({ status: ready ? 'ready' : 'degraded', stores }, ready ? 200 : 503);
  });

  const cmp = <Name extends OperationName>(name: Name, input: unknown, pathRecordId?: string) =>
    CMP_OPERATIONS[name](hippocampus, input, pathRecordId) as Promise<OperationResult<Name>>;

  app.post('/v1/encode', async (c) => c.json(await cmp('encodeStore', await body(c))));
  app.post('/v1/encode/batch', async (c) => c.json(await cmp('encodeBatch', await body(c))));
  app.post('/v1/encode/raw', async (c) => c.json(await cmp('encodeStoreRaw', await body(c))));
  app.post('/v1/encode/raw/batch', async (c) => c.json(await cmp('encodeBatchStoreRaw', await body(c))));
  app.patch('/v1/encode/:record_id', async (c) => {
    await cmp('encodeUpdate', await body(c), c.req.param('record_id'));
    return c.body(null, 204);
  });
  app.post('/v1/recall/query', async (c) => c.json(await cmp('recallQuery', await body(c))));
  app.post('/v1/recall/raw', async (c) => c.json(await cmp('recallRawQuery', await body(c))));
  app.post('/v1/recall/associate/:record_id', async (c) => c.json(await cmp('recallAssociate', await body(c), c.req.param('record_id'))));
  app.post('/v1/recall/timeline', async (c) => c.json(await cmp('recallTimeline', await body(c))));
  app.post('/v1/recall/graph', async (c) => c.json(await cmp('recallGraph', await body(c))));
  app.put('/v1/lifecycle/mode', async (c) => {
    await cmp('setMode', await body(c));
    return c.body(null, 204);
  });
  app.post('/v1/lifecycle/consolidate', async (c) => c.json(await cmp('consolidate', await body(c))));
  app.post('/v1/lifecycle/dream-tick', async (c) => c.json(await cmp('dreamTick', await body(c))));
  app.post('/v1/lifecycle/decay-tick', async (c) => c.json(await cmp('decayTick', await body(c))));
  app.delete('/v1/lifecycle/forget', async (c) => c.json(await cmp('forget', await body(c))));
  app.post('/v1/introspect/decay-forecast', async (c) => c.json(await cmp('decayForecast', await body(c))));
  app.get('/v1/introspect/record/:record_id', async (c) => c.json(await cmp('introspectRecord', c.req.query(), c.req.param('record_id'))));
  app.get('/v1/introspect/evolution', async (c) => c.json(await cmp('evolution', {})));
  app.get('/v1/introspect/stats', async (c) => c.json(await cmp('stats', c.req.query())));
  app.post('/v1/lifecycle/export', async (c) => {
    const chunks: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk);
        callback();
      },
    });
    const response = await hippocampus.exportArchive(parseExport(await body(c)), sink);
    const json = Readable.from(withByteArray(JSON.stringify(response), 'archive_data', chunks));
    return c.body(Readable.toWeb(json) as ReadableStream<Uint8Array>, 200, { 'content-type': 'application/json' });
  });
  app.post('/v1/lifecycle/import', async (c) => {
    const { request, archive_data } = parseImport(await body(c));
    if (archive_data === null) throw new CmpError('VALIDATION_ERROR', 'Import requires archive_data', { field: 'archive_data' });
    return c.json(await hippocampus.importArchive(request, Readable.from([archive_data])));
  });

  return app;
}

/**
 * `json` (an object) with one more field holding `chunks` as an integer array, the reference's form of
 * bytes (spec §1.1), produced a chunk at a time: as one string, a large archive's digits would exceed
 * what a JavaScript string can hold.
 */
function* withByteArray(json: string, field: string, chunks: Buffer[]): Generator<string> {
  yield `${json.slice(0, -1)},${JSON.stringify(field)}:[`;
  let first = true;
  for (const chunk of chunks) {
    if (chunk.length === 0) continue;
    yield `${first ? '' : ','}${chunk.join(',')}`;
    first = false;
  }
  yield ']}';
}

/**
 * The JSON body, with the `Idempotency-Key` header folded in as the request's idempotency key.
 * Malformed JSON is a VALIDATION_ERROR naming the body (spec §3.22).
 */
async function body(c: Context<Env>): Promise<unknown> {
  const text = await c.req.text();
  let parsed: unknown;
  try {
    parsed = text.trim() === '' ? {} : JSON.parse(text);
  } catch (error) {
    throw new CmpError('VALIDATION_ERROR', `body: malformed JSON (${(error as Error).message})`, { field: 'body' });
  }
  const key = c.req.header('idempotency-key');
  if (key !== undefined && parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
    return { idempotency_key: key, ...(parsed as object) };
  }
  return parsed;
}
