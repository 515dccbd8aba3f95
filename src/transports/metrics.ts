import { Counter, Gauge, Histogram, Registry } from 'prom-client';

// Prometheus metrics of the port (`http.metrics_enabled`, served at GET /metrics): every request by
// method, route and status, whatever the protocol, and the CMP operation it made. One registry per
// server, so two servers in one process (tests) never mix their counts.

export interface Metrics {
  /** Records one finished request. `path` is the raw URL path; it is folded into a bounded route label. */
  observe(method: string, path: string, status: number, seconds: number): void;
  contentType: string;
  text(): Promise<string>;
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/** REST routes with their operation (the RPC name), by route template. */
const REST_ROUTES: Record<string, string> = {
  'POST /v1/encode': 'EncodeStore',
  'POST /v1/encode/batch': 'EncodeBatch',
  'POST /v1/encode/raw': 'EncodeStoreRaw',
  'POST /v1/encode/raw/batch': 'EncodeBatchStoreRaw',
  'PATCH /v1/encode/{record_id}': 'EncodeUpdate',
  'POST /v1/recall/query': 'RecallQuery',
  'POST /v1/recall/raw': 'RecallRawQuery',
  'POST /v1/recall/associate/{record_id}': 'RecallAssociate',
  'POST /v1/recall/timeline': 'RecallTimeline',
  'POST /v1/recall/graph': 'RecallGraph',
  'POST /v1/lifecycle/consolidate': 'Consolidate',
  'POST /v1/lifecycle/dream-tick': 'DreamTick',
  'POST /v1/lifecycle/decay-tick': 'DecayTick',
  'PUT /v1/lifecycle/mode': 'SetMode',
  'DELETE /v1/lifecycle/forget': 'Forget',
  'POST /v1/lifecycle/export': 'Export',
  'POST /v1/lifecycle/import': 'Import',
  'GET /v1/introspect/stats': 'Stats',
  'GET /v1/introspect/record/{record_id}': 'IntrospectRecord',
  'POST /v1/introspect/decay-forecast': 'DecayForecast',
  'GET /v1/introspect/evolution': 'Evolution',
};
const OTHER_ROUTES = new Set(['/health', '/readiness', '/metrics', '/mcp']);
const RPC_PATH = /^\/(cerememory\.v1\.CerememoryService|grpc\.health\.v1\.Health|grpc\.reflection\.v1\.ServerReflection)\/([A-Za-z]+)$/;

/** The route label of a request: a REST template, an RPC path, a fixed route, or `unknown` (bounded). */
export function routeOf(method: string, path: string): { route: string; operation: string | null } {
  const rpc = RPC_PATH.exec(path);
  if (rpc) return { route: path, operation: rpc[1] === 'cerememory.v1.CerememoryService' ? rpc[2]! : null };
  const template = path.replace(UUID, '{record_id}');
  const operation = REST_ROUTES[`${method} ${template}`];
  if (operation !== undefined) return { route: template, operation };
  return { route: OTHER_ROUTES.has(path) ? path : 'unknown', operation: null };
}

/** What a cluster node reports at each scrape (src/cluster/node.ts `metrics`). */
export interface ClusterMetricsSource {
  (): Promise<{ members: number; member: boolean; served: { partition: number; last: number; lag: number }[] }>;
}

/** `cluster`: cluster mode's gauges, read from the node at each scrape; none in embedded mode. */
export function createMetrics(options: { cluster?: ClusterMetricsSource } = {}): Metrics {
  const registry = new Registry();
  if (options.cluster) clusterGauges(registry, options.cluster);
  const requests = new Counter({
    name: 'cerememory_http_requests_total',
    help: 'Requests by method, route and status.',
    labelNames: ['method', 'path', 'status'],
    registers: [registry],
  });
  const durations = new Histogram({
    name: 'cerememory_http_request_duration_seconds',
    help: 'Request duration by method, route and status.',
    labelNames: ['method', 'path', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  // gRPC reports failures in trailers under HTTP 200, so operations are counted without an outcome;
  // the HTTP status of REST and Connect failures is in cerememory_http_requests_total.
  const operations = new Counter({
    name: 'cerememory_operations_total',
    help: 'CMP operations by RPC name, over every transport.',
    labelNames: ['operation'],
    registers: [registry],
  });
  const operationDurations = new Histogram({
    name: 'cerememory_operation_duration_seconds',
    help: 'CMP operation duration by RPC name.',
    labelNames: ['operation'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60],
    registers: [registry],
  });
  return {
    observe(method, path, status, seconds) {
      const { route, operation } = routeOf(method, path);
      const labels = { method, path: route, status: String(status) };
      requests.inc(labels);
      durations.observe(labels, seconds);
      if (operation !== null) {
        operations.inc({ operation });
        operationDurations.observe({ operation }, seconds);
      }
    },
    contentType: registry.contentType,
    text: () => registry.metrics(),
  };
}

/** Cluster mode's gauges, refreshed by one call to the node per scrape. */
function clusterGauges(registry: Registry, source: ClusterMetricsSource): void {
  let scrape: Promise<Awaited<ReturnType<ClusterMetricsSource>>> | undefined;
  // The gauges' collect callbacks run together at each scrape: they share one answer.
  const read = () => (scrape ??= source().finally(() => setImmediate(() => (scrape = undefined))));
  new Gauge({
    name: 'cerememory_cluster_member',
    help: 'Whether this node is in the cluster now (1) or not (0): connected, its heartbeat counted by the others.',
    registers: [registry],
    async collect() {
      this.set((await read()).member ? 1 : 0);
    },
  });
  new Gauge({
    name: 'cerememory_cluster_members',
    help: 'Live nodes of the cluster, as this node sees them.',
    registers: [registry],
    async collect() {
      this.set((await read()).members);
    },
  });
  new Gauge({
    name: 'cerememory_cluster_partitions_owned',
    help: 'Partitions this node holds the lease of and serves.',
    registers: [registry],
    async collect() {
      this.set((await read()).served.length);
    },
  });
  new Gauge({
    name: 'cerememory_cluster_partition_log_sequence',
    help: 'Last sequence of the log of each partition this node serves.',
    labelNames: ['partition'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const { partition, last } of (await read()).served) this.set({ partition: String(partition) }, last);
    },
  });
  new Gauge({
    name: 'cerememory_cluster_partition_lag',
    help: 'Log entries of each partition this node serves that it has not applied (0 when caught up).',
    labelNames: ['partition'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const { partition, lag } of (await read()).served) this.set({ partition: String(partition) }, lag);
    },
  });
}
