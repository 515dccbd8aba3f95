import { join } from 'node:path';
import { Code } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { isGrpcRequest, writeRpcError } from './transports/connect/raw-error.js';
import { cmpErrorInterceptor } from './transports/connect/wire.js';
import { getRequestListener } from '@hono/node-server';
import { file_cerememory_v1_cerememory, CerememoryService } from './gen/cerememory/v1/cerememory_pb.js';
import { file_grpc_health_v1_health, Health } from './gen/grpc/health/v1/health_pb.js';
import { file_grpc_reflection_v1_reflection, ServerReflection } from './gen/grpc/reflection/v1/reflection_pb.js';
import type { CerememoryConfig } from './runtime/config/index.js';
import { startRuntime, type Runtime, type RuntimeOptions } from './runtime/runtime.js';
import type { ClusterNode } from './cluster/node.js';
import { healthRoutes } from './transports/connect/health.js';
import { withProtocolErrors } from './transports/connect/protocol-errors.js';
import { reflectionRoutes } from './transports/connect/reflection.js';
import { cerememoryRoutes } from './transports/connect/service.js';
import { consoleAssets } from './transports/console/assets.js';
import { localEndpoint } from './transports/endpoint.js';
import { createMcpHttp } from './transports/mcp/http.js';
import { createMetrics, type Metrics } from './transports/metrics.js';
import { listenOnePort, type OnePortServer, type RequestHandler } from './transports/one-port.js';
import { createRestApp } from './transports/rest/app.js';
import { assertSafeBind, connectContextValues, connectCors, corsPolicy, createSecurity, guardRequestOrigin, requestOriginPolicy, securityInterceptor } from './transports/security/index.js';
import { VERSION } from './version.js';

// One Cerememory server: the actor runtime on a data directory plus the transports on one port:
// Connect/gRPC/gRPC-Web (with reflection and health) first, and whatever no RPC route matches falls
// through to the REST binding.

export interface CerememoryServer {
  readonly runtime: Runtime;
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

export async function startServer(config: CerememoryConfig, options: RuntimeOptions = {}): Promise<CerememoryServer> {
  const log = options.log ?? ((line: string) => console.error(line));
  assertSafeBind(config);
  // The rate limiter's buckets refill on the same injected clock as the rest (tests hold it still).
  const security = createSecurity(config, { now: options.now });
  const runtime = await startRuntime(config, { ...options, log });
  const mcp = createMcpHttp(localEndpoint(runtime.operations), VERSION, {
    limits: {
      idleTimeoutMs: config.mcp.session_idle_timeout_secs * 1000,
      perClient: config.mcp.max_sessions_per_client,
      total: config.mcp.max_sessions,
    },
    exports: { kind: 'folder', directory: join(config.data_dir, 'exports') },
    now: options.now,
  });
  const node = runtime.cluster;
  const metrics = config.http.metrics_enabled ? createMetrics(node === undefined ? {} : { cluster: () => node.metrics() }) : undefined;
  const app = createRestApp({
    metrics,
    mcp,
    operations: runtime.operations,
    health: runtime.health,
    embedding: runtime.embedding,
    ...(node === undefined ? {} : { cluster: clusterView(node), clusterMembership: () => node.membership() }),
    log,
    maxBodyBytes: config.http.max_body_bytes,
    security,
    consoleAssets: consoleAssets(),
  });
  // As /readiness: a cluster node cut from its cluster is not serving.
  const ready = () => runtime.health().every((store) => store.state === 'ready') && node?.membership().member !== false;
  const serviceNames = [CerememoryService.typeName, Health.typeName, ServerReflection.typeName];
  const rpcPrefixes = serviceNames.map((name) => `/${name}/`);
  const isRpcPath = (path: string) => rpcPrefixes.some((prefix) => path.startsWith(prefix));
  const handler = connectNodeAdapter({
    routes: (router) => {
      cerememoryRoutes({ operations: runtime.operations })(router);
      healthRoutes(ready, [CerememoryService.typeName])(router);
      reflectionRoutes([file_cerememory_v1_cerememory, file_grpc_health_v1_health, file_grpc_reflection_v1_reflection], serviceNames)(router);
      withProtocolErrors(router);
    },
    readMaxBytes: config.http.max_body_bytes,
    // Auth and rate limit guard the Cerememory service; gRPC health and reflection stay open like /health.
    // Errors first: it translates every handler's and interceptor's failure, once.
    contextValues: connectContextValues(security),
    interceptors: [cmpErrorInterceptor(log), securityInterceptor(security, [CerememoryService.typeName])],
    fallback: rpcOrRest(getRequestListener(app.fetch) as RequestHandler) as never,
  });
  let server: OnePortServer;
  try {
    const withCors = connectCors(corsPolicy(config.http.cors_origins), isRpcPath, handler);
    // Host and Origin are checked before any transport sees the request (web pages, DNS rebinding).
    const originPolicy = requestOriginPolicy({ allowedHosts: config.http.allowed_hosts, corsOrigins: config.http.cors_origins });
    const guarded = guardRequestOrigin(originPolicy, isRpcPath, withCors);
    server = await listenOnePort(metrics ? observed(guarded, metrics) : guarded, config.http.port, config.http.bind_address);
  } catch (error) {
    await runtime.close();
    throw error;
  }
  const { port } = server;
  const host = config.http.bind_address.includes(':') ? `[${config.http.bind_address}]` : config.http.bind_address;
  const url = `http://${host}:${port}`;
  runtime.advertise(url);
  let closing: Promise<void> | undefined;
  return {
    runtime,
    port,
    url,
    close: () =>
      (closing ??= (async () => {
        // The runtime closes whatever failed before it: it releases the stores and the data directory.
        try {
          await mcp.close();
          await server.close();
        } finally {
          await runtime.close();
        }
      })()),
  };
}

/** `/<package>.<Service>/<Method>`: the shape of every Connect and gRPC path. */
const RPC_PATH = /^\/[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)+\/[A-Za-z_]\w*$/;

/**
 * What no RPC route matched: an RPC (gRPC content type, or a path of the RPC shape) for a method this
 * server does not have is UNIMPLEMENTED in the caller's protocol (issue 14, defect 9); anything else
 * is REST's.
 */
function rpcOrRest(rest: RequestHandler): RequestHandler {
  return (request, response) => {
    const path = (request.url ?? '/').split('?')[0]!;
    if (isGrpcRequest(request) || (request.method === 'POST' && RPC_PATH.test(path))) {
      writeRpcError(request, response, { code: Code.Unimplemented, message: `${path.slice(1)} is not a method of this server` });
      return;
    }
    rest(request, response);
  };
}

/** Every request of the port, whatever its protocol, counted when its response finishes. */
function observed(handler: RequestHandler, metrics: Metrics): RequestHandler {
  return (request, response) => {
    const started = performance.now();
    response.once('finish', () => {
      const path = (request.url ?? '/').split('?')[0]!;
      metrics.observe(request.method ?? 'GET', path, response.statusCode, (performance.now() - started) / 1000);
    });
    handler(request, response);
  };
}

/** GET /v1/cluster: the whole cluster, or with `?space=` where that space lives. */
function clusterView(node: ClusterNode) {
  return (space: string | undefined) => (space === undefined ? node.status() : node.locate(space));
}
