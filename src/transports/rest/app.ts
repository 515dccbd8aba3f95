import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { CmpError, isServerFault } from '../../cmp/errors.js';
import type { EmbeddingReport } from '../../embedding/embedder.js';
import type { StoreHealth } from '../../runtime/supervised-store.js';
import type { ConsoleAssets } from '../console/assets.js';
import { consoleRoutes } from '../console/routes.js';
import type { McpHttp } from '../mcp/http.js';
import type { Metrics } from '../metrics.js';
import type { Operations } from '../operations.js';
import { clientOf, rateLimit, requireApiKey, restCors, type Security } from '../security/index.js';
import { toEnvelope } from './errors.js';

// The reference-compatible REST binding under /v1 (DESIGN §2.10). Each handler decodes, makes one
// call on the operations table (operations.ts) and encodes; request ids and errors are handled once,
// here at the edge.

export interface RestAppOptions {
  /** The CMP operations, audited as the runtime composed them (Runtime.operations). */
  operations: Operations;
  health: () => StoreHealth[];
  /** The embedder and its vector backlog, reported by /readiness (issue 17). */
  embedding?: () => Promise<EmbeddingReport>;
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
  /** Cluster mode (issue 16): nodes and partition owners, or one space's partition and owner, at /v1/cluster. */
  cluster?: (space: string | undefined) => Promise<unknown>;
  /** Cluster mode: whether this node is in the cluster, reported by /readiness (not ready while it is not). */
  clusterMembership?: () => { node_id: string; member: boolean; partitions_served: number[] };
}

type Env = { Variables: { requestId: string } };

export function createRestApp({ operations, health, embedding, log, maxBodyBytes, mcp, metrics, security, consoleAssets, cluster, clusterMembership }: RestAppOptions): Hono<Env> {
  const app = new Hono<Env>();

  app.use(async function requestId(c, next) {
    const id = c.req.header('x-request-id') ?? randomUUID();
    c.set('requestId', id);
    await next();
    c.header('X-Request-Id', id);
  });

  app.onError(function cmpErrorHandler(error, c) {
    const cmpError = CmpError.from(error);
    if (isServerFault(cmpError)) log?.(`request ${c.get('requestId')}: ${String(cmpError.cause ?? cmpError)}`);
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
    // /metrics names routes and counts: behind the key too when auth is on.
    for (const path of ['/v1/*', '/mcp', '/metrics']) {
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
    app.all('/mcp', (c) => mcp.handle(c.req.raw, security && clientOf(security, c)));
  }

  app.notFound((c) => {
    throw new CmpError('VALIDATION_ERROR', `No route for ${c.req.method} ${c.req.path}`);
  });

  app.get('/health', (c) => c.json({ status: 'ok' }));
  if (consoleAssets) consoleRoutes(app, consoleAssets);
  if (metrics) app.get('/metrics', async (c) => c.body(await metrics.text(), 200, { 'content-type': metrics.contentType }));
  app.get('/readiness', async (c) => {
    const stores = health();
    // A node out of its cluster (cut from NATS, its heartbeat expired) serves nothing and forwards nowhere.
    const membership = clusterMembership?.();
    const ready = stores.every((store) => store.state === 'ready') && membership?.member !== false;
    // Records waiting for their vector do not make the server unready: recall finds them by text meanwhile.
    const vectors = embedding ? { embedding: await embedding() } : {};
    return c.json({ status: ready ? 'ready' : 'degraded', stores, ...vectors, ...(membership ? { cluster: membership } : {}) }, ready ? 200 : 503);
  });

  const cmp = operations.call;

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
  if (cluster) app.get('/v1/cluster', async (c) => c.json(await cluster(c.req.query('space'))));
  app.get('/v1/introspect/stats', async (c) => c.json(await cmp('stats', c.req.query())));
  app.post('/v1/lifecycle/export', async (c) => {
    const request = await body(c);
    // Resolves once the archive starts to flow: a refusal (bad key, unknown store…) is still an error envelope.
    const json = await streamedExport((sink) => operations.exportArchive(request, sink));
    return c.body(json, 200, { 'content-type': 'application/json' });
  });
  app.post('/v1/lifecycle/import', async (c) => {
    // The archive is the body's own `archive_data` (the reference's integer array or base64).
    return c.json(await operations.importArchive(await body(c)));
  });

  return app;
}

/**
 * The export answer as a web stream: `{"archive_data":[…], …the export's metadata}`, the archive's bytes
 * as the reference's integer array (spec §1.1) written chunk by chunk as the archiver reads the staged
 * archive, so the archive is never held whole (as one string, a large archive's digits would not even
 * fit in one). The metadata, known when the export ends, closes the object. The archiver waits while
 * the client reads slower than it writes (at most EXPORT_QUEUE chunks queued), and a client that goes
 * away fails the export, which then removes what it staged. Resolves when the first chunk arrives or
 * the export ends; rejects when it fails before that (a refusal is still an error envelope). A failure
 * later cuts the body (the client sees truncated JSON), as a status line already sent cannot be taken back.
 */
function streamedExport(run: (sink: Writable) => Promise<object>): Promise<ReadableStream<Uint8Array>> {
  return new Promise((resolve, reject) => {
    const encoder = new TextEncoder();
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    /** The sink's write waiting for the reader to want more. */
    let waiting: ((error?: Error) => void) | undefined;
    let open = true;
    let flowing = false;
    let first = true;
    const release = (error?: Error) => {
      const callback = waiting;
      waiting = undefined;
      callback?.(error);
    };
    const flow = () => {
      if (flowing) return;
      flowing = true;
      resolve(body);
    };
    const body = new ReadableStream<Uint8Array>(
      {
        start: (streamController) => void (controller = streamController),
        pull: () => release(),
        cancel: () => {
          open = false;
          const gone = new CmpError('EXPORT_FAILED', 'export: the client stopped reading the archive');
          release(gone);
          sink.destroy(gone);
        },
      },
      { highWaterMark: EXPORT_QUEUE },
    );
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        if (chunk.length === 0 || !open) return callback();
        controller.enqueue(encoder.encode(`${first ? '{"archive_data":[' : ','}${chunk.join(',')}`));
        first = false;
        flow();
        if ((controller.desiredSize ?? 0) > 0) callback();
        else waiting = callback;
      },
    });
    run(sink).then(
      (response) => {
        if (!open) return;
        open = false;
        const metadata = JSON.stringify(response).slice(1, -1);
        controller.enqueue(encoder.encode(`${first ? '{"archive_data":[' : ''}]${metadata === '' ? '' : `,${metadata}`}}`));
        controller.close();
        flow();
      },
      (error: unknown) => {
        if (!flowing) return reject(error);
        if (open) controller.error(error);
        open = false;
      },
    );
  });
}

/** Chunks of the export answer queued for a slow client before the archiver waits (each ≤ ~256 KB of digits). */
const EXPORT_QUEUE = 4;

/** `application/json` and `application/<anything>+json`, with or without parameters. */
const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json\s*(;|$)/i;

/**
 * The JSON body, with the `Idempotency-Key` header folded in as the request's idempotency key.
 * Malformed JSON is a VALIDATION_ERROR naming the body (spec §3.22). A body must say it is JSON: the
 * bodies a web page may send another site without asking (text/plain, forms, multipart, an untyped
 * Blob) are refused with 415 before they are read as one, so a page cannot write or wipe memories
 * even where the origin check does not apply. An empty body may come without a type (`curl -X POST`).
 */
async function body(c: Context<Env>): Promise<unknown> {
  const contentType = c.req.header('content-type');
  if (contentType !== undefined && !JSON_MEDIA_TYPE.test(contentType)) {
    throw new CmpError('UNSUPPORTED_MEDIA_TYPE', `content-type: expected application/json, got ${JSON.stringify(contentType)}`, {
      field: 'content-type',
    });
  }
  const text = await c.req.text();
  if (contentType === undefined && text.trim() !== '') {
    throw new CmpError('UNSUPPORTED_MEDIA_TYPE', 'content-type: a request body must be sent as application/json', { field: 'content-type' });
  }
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
