import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Hippocampus } from '../actors/hippocampus/coordinator.js';
import { AuditLog, auditLogPath } from '../audit/audit-log.js';
import type { StoreApi, Stores } from '../actors/store/protocol.js';
import { createWorkingStore } from '../actors/working/working-store.js';
import type { EmbedClient } from '../embedding/embed-client.js';
import { EmbeddingService } from '../embedding/embed-service.js';
import type { Embedder, EmbeddingReport } from '../embedding/embedder.js';
import { createEmbedder } from '../embedding/factory.js';
import { createLlmProvider } from '../providers/index.js';
import { PERSISTENT_STORES, type PartitionName, type StoreType } from '../cmp/types.js';
import type { CerememoryConfig } from './config/index.js';
import { lockDataDir, type DataDirLock } from './data-dir-lock.js';
import type { Scheduler } from './scheduler.js';
import { openStoreKey } from './store-key.js';
import { SupervisedStore, type StoreHealth } from './supervised-store.js';
import type { ClusterNode } from '../cluster/node.js';
import type { AssociationGraph } from '../actors/hippocampus/association-graph.js';
import type { NatsLedger } from '../cluster/nats-ledger.js';
import { auditedCalls, hippocampusCalls, operationsOver, type Operations } from '../transports/operations.js';

// Starts the actor system on one data directory: the directory lock, one supervised worker per
// persistent partition (opened in parallel), working memory in RAM, and the hippocampus over them.
// `close()` stops it in reverse order and releases the directory.

export interface Runtime {
  readonly config: CerememoryConfig;
  readonly hippocampus: Hippocampus;
  /**
   * Every CMP operation as the transports and the background jobs call it: the operations table over
   * the hippocampus, audited when the audit log is on, routed to the owner in cluster mode.
   */
  readonly operations: Operations;
  /** The supervised workers, by partition (working memory is not a worker). */
  readonly workers: ReadonlyMap<PartitionName, SupervisedStore>;
  /** The audit log every mutating operation is appended to; absent when `security.audit_log_enabled` is false. */
  readonly audit: AuditLog | undefined;
  health(): StoreHealth[];
  /** This node's place in the cluster; undefined in embedded mode. */
  readonly cluster: ClusterNode | undefined;
  /**
   * The embedder in use (`name/dimension`), what recall cues are embedded by right now ("static": the
   * static query table, once the worker has it; "model": the embedder itself), and the records of every
   * store waiting for their vector.
   */
  embedding(): Promise<EmbeddingReport>;
  /** Tells other processes (the CLI, `cerememory mcp`) where this runtime's server listens. */
  advertise(url: string): void;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  now?: () => number;
  /** Starts the background decay and dream ticks; default real timers (tests fire them by hand). */
  scheduler?: Scheduler;
  log?: (line: string) => void;
  /** Create the data directory when it is missing (default); false refuses with DataDirMissingError. */
  createDataDir?: boolean;
  /** Cluster mode's timing (tests shorten it): lease TTL, period of heartbeat and renewal, deadline of a forwarded request. */
  cluster?: { leaseTtlMs?: number; tickMs?: number; forwardTimeoutMs?: number };
}

export const WORKER_PARTITIONS = [...PERSISTENT_STORES, 'raw_journal'] as const;

/** Whether `dataDir` already holds a store partition (a LevelDB directory). */
export function hasStoreData(dataDir: string): boolean {
  return WORKER_PARTITIONS.some((name) => existsSync(join(dataDir, name, 'CURRENT')));
}

export async function startRuntime(config: CerememoryConfig, options: RuntimeOptions = {}): Promise<Runtime> {
  const log = options.log ?? ((line: string) => console.error(line));
  const lock: DataDirLock = await lockDataDir(config.data_dir, { create: options.createDataDir ?? true });
  // Archives are staged in <data_dir>/tmp while exported or imported; whatever a previous process left
  // there is stale now that this one holds the directory.
  rmSync(join(config.data_dir, 'tmp'), { recursive: true, force: true });
  const workers = new Map<PartitionName, SupervisedStore>();
  let hippocampus: Hippocampus | undefined;
  let audit: AuditLog | undefined;
  // provider "local": the semantic model, in one embedding worker for the whole process; it loads
  // while the stores open (embed-service.ts).
  let embedding: EmbeddingService | undefined;
  // Cluster mode only: NATS code is not even loaded in embedded mode.
  let node: ClusterNode | undefined;
  let natsLedger: NatsLedger | undefined;
  try {
    if (config.cluster.mode === 'nats') {
      const { ClusterNode } = await import('../cluster/node.js');
      node = await ClusterNode.connect({ config: config.cluster, ...options.cluster, log });
    }
    // Refuses a wrong passphrase, a plaintext directory with one, an encrypted directory without one.
    const storeKey = openStoreKey(config.data_dir, config.security.store_encryption_passphrase, hasStoreData(config.data_dir));
    // Verified before anything else starts: a broken chain stops the engine (spec §8.2).
    if (config.security.audit_log_enabled) {
      audit = await AuditLog.open(auditLogPath(config), { sync: config.runtime.sync_writes, now: options.now, log });
    }
    if (config.embedding.provider === 'local') {
      embedding = EmbeddingService.start(
        {
          ...(config.embedding.model_dir === undefined ? {} : { modelDir: config.embedding.model_dir }),
          // The static query table is cached beside the data it serves (embed-worker.ts).
          ...(config.embedding.query_vectors === 'static' ? { staticQueryDir: join(config.data_dir, 'embedding') } : {}),
        },
        log,
      );
    }
    const service = embedding;
    const started = await Promise.allSettled(
      WORKER_PARTITIONS.map((name) => {
        const section = config.stores[name];
        return SupervisedStore.start({
          worker: {
            name,
            location: join(config.data_dir, name),
            syncWrites: config.runtime.sync_writes,
            compactEvery: Math.max(1000, Math.ceil(section.log_retention_events / 10)),
            keepEvents: section.log_retention_events,
            idempotencyTtlMs: config.runtime.idempotency_ttl_secs * 1000,
            indexDir: join(config.data_dir, `${name}.indexes`),
            embedding: config.embedding,
            vectorIndex: {
              m: section.vector_index.m,
              efConstruction: section.vector_index.ef_construction,
              efSearch: section.vector_index.ef_search,
              initialCapacity: section.vector_index.initial_capacity,
            },
            storeKey,
          },
          backoffInitialMs: config.runtime.restart_backoff_initial_ms,
          backoffMaxMs: config.runtime.restart_backoff_max_ms,
          mailboxLimit: section.mailbox_limit,
          callTimeoutMs: config.runtime.call_timeout_ms,
          // The raw journal has no vectors (raw recall is by text): it needs no port.
          ...(service && name !== 'raw_journal' ? { embedPort: () => service.port() } : {}),
          log,
          onRestarted: (partition) => {
            hippocampus?.resync(partition).catch((error: unknown) => log(`${partition}: resync failed: ${String(error)}`));
          },
        }).then((store) => workers.set(name, store));
      }),
    );
    const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) throw failed.reason;

    let embedder: Embedder;
    let cueClient: EmbedClient | undefined;
    if (embedding) {
      const client = await embedding.client({ staticQueries: config.embedding.query_vectors === 'static' });
      if (client.info.fallbackReason === undefined) log(`embedding: ${client.name}/${client.dimension}, model loaded in ${client.info.loadMs} ms`);
      embedder = client;
      cueClient = client;
    } else {
      embedder = createEmbedder(config.embedding);
    }
    const llm = createLlmProvider(config.llm);
    const working = createWorkingStore({
      capacity: config.stores.working.capacity,
      idempotencyTtlMs: config.runtime.idempotency_ttl_secs * 1000,
      embedder,
      sessionContext: config.embedding.session_context,
    });
    const apis = { working } as Partial<Record<PartitionName, StoreApi>> as Record<PartitionName, StoreApi>;
    for (const [name, store] of workers) apis[name] = store.api;
    // The one place a store's record type is asserted: a worker's API is typed by what may cross the
    // thread (any stored record), and which records a store holds follows from its name, by which the
    // hippocampus routes every event. Readers of `stores` then need no cast (issue 18, move 2).
    const stores = apis as Stores;

    const recordParams = Object.fromEntries(
      (['working', ...PERSISTENT_STORES] as StoreType[]).map((store) => [store, { decay_rate: config.stores[store].decay_exponent, stability: config.stores[store].initial_stability_secs }]),
    ) as Record<StoreType, { decay_rate: number; stability: number }>;
    hippocampus = new Hippocampus({
      stores,
      recordParams,
      embedder,
      llm,
      activation: { decayFactor: config.recall.activation_decay_factor, threshold: config.recall.activation_threshold },
      scoring: {
        sessionNeighbourWeight: config.recall.session_neighbour_weight,
        turnContext: config.recall.turn_context,
        attributionBoost: config.recall.attribution_boost,
        textWeight: 1 - config.recall.vector_weight,
        vectorWeight: config.recall.vector_weight,
        phraseBoost: config.recall.phrase_boost,
        timeBoost: config.recall.time_boost,
        sessionBoost: config.recall.session_boost,
      },
      associationThreshold: config.embedding.association_threshold,
      pruneThreshold: Object.fromEntries((['working', ...PERSISTENT_STORES] as StoreType[]).map((store) => [store, config.stores[store].prune_threshold])) as Record<StoreType, number>,
      statePath: join(config.data_dir, 'hippocampus.json'),
      // Archives are staged beside the data they come from or go to: same disk, same protection.
      tempDir: join(config.data_dir, 'tmp'),
      now: options.now,
      log,
      ...(node === undefined ? {} : { newLedger: await natsLedgerFactory(node, config, (ledger) => (natsLedger = ledger)) }),
    });
    const own = hippocampusCalls(hippocampus);
    const audited = audit ? auditedCalls(own, audit, log) : own;
    let calls = audited;
    await hippocampus.start();
    if (node) {
      const { routedCalls } = await import('../cluster/routing.js');
      const ledger = natsLedger!;
      const routed = routedCalls(audited, node);
      calls = routed.calls;
      await node.start(
        routed.local,
        (partition) => ledger.catchUpPartition(partition),
        (partition) => ledger.lag(partition),
      );
    }
    const operations = operationsOver(calls);
    for (const job of ['decay', 'dream'] as const) {
      const { background_enabled: enabled, background_interval_secs: seconds } = config[job];
      if (enabled) hippocampus.startBackground(job, seconds * 1000, log, options.scheduler, calls);
    }

    const ready = hippocampus;
    let closing: Promise<void> | undefined;
    return {
      config,
      hippocampus: ready,
      operations,
      workers,
      audit,
      health: () => [...workers.values()].map((store) => store.health()),
      cluster: node,
      embedding: async () => {
        const counts = await Promise.all(
          [working.vectorBacklog(), ...[...workers].filter(([name]) => name !== 'raw_journal').map(([, store]) => store.api.vectorBacklog())].map((count) => count.catch(() => 0)),
        );
        return {
          embedder: `${embedder.name}/${embedder.dimension}`,
          query_vectors: cueClient?.staticQueries === true ? 'static' : 'model',
          vector_backlog: counts.reduce((sum, count) => sum + count, 0),
          links_pending: ready.linksPending,
        };
      },
      advertise: (url) => lock.advertise(url),
      close: () =>
        (closing ??= (async () => {
          // Every step runs whatever the one before did (a full disk fails flushes): a close that
          // stops halfway leaves stores unclosed and the directory locked (issue 14, defect 7).
          // Leases first: a standby takes the partitions over while this node closes its stores.
          await node?.stop().catch((error: unknown) => log(`cluster: stop failed: ${String(error)}`));
          try {
            ready.stop();
          } catch (error) {
            log(`hippocampus: stop failed: ${String(error)}`);
          }
          await Promise.allSettled([working.close(), ...[...workers.values()].map((store) => store.close())]);
          await embedding?.close().catch((error: unknown) => log(`embedding: close failed: ${String(error)}`));
          await audit?.close().catch((error: unknown) => log(`audit: close failed: ${String(error)}`));
          await lock.release();
        })()),
    };
  } catch (error) {
    await node?.stop().catch(() => {});
    await Promise.allSettled([...workers.values()].map((store) => store.close()));
    await embedding?.close().catch(() => {});
    await audit?.close().catch(() => {});
    await lock.release();
    throw error;
  }
}

/** The hippocampus's ledger in cluster mode: the partitions' replicated logs, writes under this node's leases. */
async function natsLedgerFactory(node: ClusterNode, config: CerememoryConfig, created: (ledger: NatsLedger) => void) {
  const { NatsLedger } = await import('../cluster/nats-ledger.js');
  return (fixture: { stores: Stores; graph: AssociationGraph; now: () => number }) => {
    const ledger = new NatsLedger({ ...fixture, nc: node.nc, partitions: config.cluster.partitions, replicas: config.cluster.replicas, leases: node.leases });
    created(ledger);
    return ledger;
  };
}
