import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { MessagePort, Worker } from 'node:worker_threads';
import { CmpError } from '../cmp/errors.js';
import type { PartitionName } from '../cmp/types.js';
import { toWireEnvelope, type CrashPoint, type StoreApi, type StoreWorkerApi, type StoreWorkerData } from '../actors/store/protocol.js';
import { Comlink, installErrorTransfer, nodeEndpoint } from './comlink-node.js';
import { spawnWorker } from './spawn-worker.js';

// Supervision of one store worker (DESIGN §1): a crashed worker is restarted with exponential backoff;
// calls in flight when it dies are rejected at once with a retryable STORE_UNAVAILABLE (comlink alone
// would leave them pending forever, stack notes §4); calls beyond the mailbox limit are refused rather
// than queued without bound. The other stores never notice.

export interface SupervisorOptions {
  worker: StoreWorkerData;
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** Calls in flight at most; more are refused with STORE_UNAVAILABLE. */
  mailboxLimit: number;
  /** A call that takes longer is rejected as STORE_UNAVAILABLE (the store may be wedged). */
  callTimeoutMs: number;
  /** A fresh port to the embedding worker for each (re)spawned worker (provider "local"). */
  embedPort?: () => MessagePort;
  /** Called after a restarted worker is ready again, so the hippocampus can resynchronise. */
  onRestarted?: (name: PartitionName) => void;
  log?: (line: string) => void;
}

export type SupervisedState = 'starting' | 'ready' | 'restarting' | 'stopping' | 'stopped';

export interface StoreHealth {
  name: PartitionName;
  state: SupervisedState;
  restarts: number;
  in_flight: number;
  last_crash: string | null;
}

type Remote = Comlink.Remote<StoreWorkerApi>;

const STORE_METHODS = [
  'whenReady',
  'apply',
  'get',
  'getMany',
  'findIdempotent',
  'idsCreatedBetween',
  'registry',
  'stats',
  'search',
  'similar',
  'similarOf',
  'vectorBacklog',
  'decay',
  'recent',
  'byIntensity',
  'createdBetween',
  'inSession',
  'spaces',
  'page',
  'compact',
  'close',
] as const satisfies readonly (keyof StoreApi)[];
type Pending = { reject: (reason: unknown) => void };

installErrorTransfer();

/**
 * Each store worker's young generation, in MiB. V8's default on a 64-bit machine lets every isolate's
 * young generation grow to ~48 MiB under an import's allocation rate, and five workers kept it all:
 * capped at 8 MiB a 100,000-record import peaked ~100 MiB lower, with the same import time, encode
 * throughput and recall latency (issue 6).
 */
const WORKER_YOUNG_GENERATION_MB = 8;

export class SupervisedStore {
  readonly name: PartitionName;
  #options: SupervisorOptions;
  #worker!: Worker;
  #remote!: Remote;
  #state: SupervisedState = 'starting';
  #pending = new Set<Pending>();
  #restarts = 0;
  #lastCrash: string | null = null;
  #backoffMs: number;
  #restartTimer: NodeJS.Timeout | undefined;

  private constructor(options: SupervisorOptions) {
    this.name = options.worker.name;
    this.#options = options;
    this.#backoffMs = options.backoffInitialMs;
  }

  /** Spawns the worker and waits until its partition is open; fails if it cannot open. */
  static async start(options: SupervisorOptions): Promise<SupervisedStore> {
    const store = new SupervisedStore(options);
    store.#spawn();
    try {
      await store.#remote.whenReady();
    } catch (error) {
      store.#state = 'stopping';
      await store.#worker.terminate();
      store.#state = 'stopped';
      throw error;
    }
    store.#state = 'ready';
    return store;
  }

  health(): StoreHealth {
    return {
      name: this.name,
      state: this.#state,
      restarts: this.#restarts,
      in_flight: this.#pending.size,
      last_crash: this.#lastCrash,
    };
  }

  /** The store API; every call goes through the mailbox and the crash guard. */
  readonly api: StoreApi = {
    ...Object.fromEntries(STORE_METHODS.map((method) => [method, (...args: unknown[]) => this.#call((remote) => (remote[method] as unknown as (...a: unknown[]) => Promise<unknown>)(...args))])),
    // Events cross in their wire form (put records as JSON text, see WireEnvelope).
    apply: (envelope, vectors) => this.#call((remote) => remote.apply(toWireEnvelope(envelope), vectors)),
  } as StoreApi;

  /** Ends the worker as a crash would (tests and fault drills); supervision restarts it. */
  async kill(): Promise<void> {
    const exited = once(this.#worker, 'exit');
    // Not worker.terminate(): that can stop the thread inside a native call, and hnswlib then aborts
    // the whole process. The worker exits itself instead; the call never answers.
    void this.#remote.crash();
    await exited;
  }

  /**
   * Arms a crash of the worker at `point` of a coming apply, after letting `skip` passes of it by
   * (fault drills: the crash lands at a known step, not wherever a kill happens to meet the work).
   * Resolves once armed; supervision restarts the worker after it crashes, as after any crash.
   */
  async crashAt(point: CrashPoint, { skip = 0 }: { skip?: number } = {}): Promise<void> {
    await this.#remote.crashAt(point, skip);
  }

  async close(): Promise<void> {
    if (this.#state === 'stopped') return;
    clearTimeout(this.#restartTimer);
    const wasRunning = this.#state === 'ready';
    this.#state = 'stopping';
    if (wasRunning) {
      try {
        await withTimeout(this.#remote.close(), this.#options.callTimeoutMs, `${this.name} store did not close in time`);
      } catch (error) {
        this.#options.log?.(`${this.name} store: close failed: ${(error as Error).message}`);
      }
    }
    await this.#worker.terminate();
    this.#rejectPending(new CmpError('STORE_UNAVAILABLE', `${this.name} store is shutting down`, { retryAfter: 1 }));
    this.#state = 'stopped';
  }

  #spawn(): void {
    // The worker's log lines (its stderr) go to the runtime's log like every other line, not straight
    // to the process's stderr, so whoever runs the server decides where logs go (tests collect them).
    const embedPort = this.#options.embedPort?.();
    const worker = spawnWorker('../actors/store/worker', import.meta.url, {
      workerData: { ...this.#options.worker, ...(embedPort ? { embedPort } : {}) },
      transferList: embedPort ? [embedPort] : [],
      stderr: true,
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
    });
    const log = this.#options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    createInterface({ input: worker.stderr, crlfDelay: Infinity }).on('line', log);
    this.#worker = worker;
    this.#remote = Comlink.wrap<StoreWorkerApi>(nodeEndpoint(worker));
    worker.on('error', (error) => this.#crashed(worker, error));
    worker.on('exit', (code) => this.#crashed(worker, new Error(`worker exited with code ${code}`)));
  }

  #crashed(worker: Worker, reason: Error): void {
    // Only the current worker's death matters, and only once; a stopping store expects it.
    if (worker !== this.#worker || this.#state === 'stopping' || this.#state === 'stopped') return;
    if (this.#state === 'restarting') return;
    this.#state = 'restarting';
    this.#lastCrash = new Date().toISOString();
    this.#options.log?.(`${this.name} store crashed (${reason.message}); restarting in ${this.#backoffMs} ms`);
    this.#rejectPending(
      new CmpError('STORE_UNAVAILABLE', `${this.name} store restarted while handling this call; retry it`, {
        retryAfter: Math.max(1, Math.ceil(this.#backoffMs / 1000)),
        cause: reason,
      }),
    );
    this.#restartTimer = setTimeout(() => void this.#restart(), this.#backoffMs);
    this.#backoffMs = Math.min(this.#backoffMs * 2, this.#options.backoffMaxMs);
  }

  async #restart(): Promise<void> {
    if (this.#state !== 'restarting') return;
    this.#spawn();
    const worker = this.#worker;
    try {
      await this.#remote.whenReady();
    } catch (error) {
      // The partition did not open (e.g. the dead thread's lock is not released yet): try again later.
      this.#state = 'ready';
      this.#crashed(worker, error as Error);
      await worker.terminate();
      return;
    }
    if (this.#state !== 'restarting' || worker !== this.#worker) return;
    this.#state = 'ready';
    this.#restarts += 1;
    this.#backoffMs = this.#options.backoffInitialMs;
    this.#options.log?.(`${this.name} store is back (restart ${this.#restarts})`);
    this.#options.onRestarted?.(this.name);
  }

  #rejectPending(error: CmpError): void {
    for (const pending of this.#pending) pending.reject(error);
    this.#pending.clear();
  }

  #call<T>(work: (remote: Remote) => Promise<T>): Promise<T> {
    if (this.#state !== 'ready') {
      return Promise.reject(
        new CmpError('STORE_UNAVAILABLE', `${this.name} store is ${this.#state}; retry shortly`, {
          retryAfter: Math.max(1, Math.ceil(this.#backoffMs / 1000)),
        }),
      );
    }
    if (this.#pending.size >= this.#options.mailboxLimit) {
      return Promise.reject(
        new CmpError('STORE_UNAVAILABLE', `${this.name} store mailbox is full (${this.#options.mailboxLimit} calls in flight)`, {
          retryAfter: 1,
        }),
      );
    }
    return new Promise<T>((resolve, reject) => {
      const pending: Pending = { reject };
      this.#pending.add(pending);
      const timer = setTimeout(() => {
        if (!this.#pending.delete(pending)) return;
        reject(new CmpError('STORE_UNAVAILABLE', `${this.name} store did not answer within ${this.#options.callTimeoutMs} ms`, { retryAfter: 1 }));
      }, this.#options.callTimeoutMs);
      work(this.#remote).then(
        (value) => {
          clearTimeout(timer);
          if (this.#pending.delete(pending)) resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          if (this.#pending.delete(pending)) reject(CmpError.from(error));
        },
      );
    });
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
