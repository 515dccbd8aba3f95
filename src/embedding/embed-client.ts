import type { MessagePort } from 'node:worker_threads';
import { CmpError } from '../cmp/errors.js';
import type { Embedder, QueryVector } from './embedder.js';
import { StaticQueryEmbedder } from './static-query.js';
import { prepareText, useLiteTokenizer } from './use-lite.js';
import { EMBED_DONE, EMBED_FAILED, EMBED_INFO, EMBED_TABLE, EMBED_TEXTS, type ClientMessage, type EmbedPriority, type EmbedderInfo, type WorkerReply } from './embed-protocol.js';

// An Embedder that asks the embedding worker (embed-worker.ts) over a MessagePort: the hippocampus's on
// the main thread, one per store worker. Awaiting it costs the caller's thread nothing while the model
// runs. If the embedding worker goes away, the port closes and every waiting call rejects (a
// MessagePort never answers for a dead thread by itself).
//
// A cue client (`staticQueries`) asks for the static query table too: once the worker has it, it sends
// it once (a SharedArrayBuffer, shared, not copied) and embedQuery() computes a cue's vector here, in a
// few microseconds, without a message to the worker; until then it asks the worker's model like embed().

type Waiting = { resolve: (reply: WorkerReply) => void; reject: (error: Error) => void };
type StaticHolder = { embedder?: StaticQueryEmbedder; onReady?: (embedder: StaticQueryEmbedder) => void };

export class EmbedClient implements Embedder {
  readonly name: string;
  readonly dimension: number;
  readonly info: EmbedderInfo;
  readonly #port: MessagePort;
  readonly #priority: EmbedPriority;
  readonly #waiting: Map<number, Waiting>;
  readonly #static: StaticHolder;
  #nextId: { value: number };

  private constructor(port: MessagePort, info: EmbedderInfo, priority: EmbedPriority, waiting: Map<number, Waiting>, nextId: { value: number }, holder: StaticHolder) {
    this.#port = port;
    this.info = info;
    this.name = info.name;
    this.dimension = info.dimension;
    this.#priority = priority;
    this.#waiting = waiting;
    this.#nextId = nextId;
    this.#static = holder;
  }

  /**
   * Connects over `port` and learns what the worker embeds with (waits for the model to load).
   * `staticQueries`: receive the static query table for embedQuery() when the worker has it.
   */
  static async connect(port: MessagePort, priority: EmbedPriority, options: { staticQueries?: boolean } = {}): Promise<EmbedClient> {
    const waiting = new Map<number, Waiting>();
    const nextId = { value: 1 };
    const holder: StaticHolder = {};
    port.on('message', (message: WorkerReply) => {
      if (message.type === EMBED_TABLE) {
        holder.embedder = new StaticQueryEmbedder(message.table, message.vocabulary, useLiteTokenizer(message.vocabulary), prepareText);
        holder.onReady?.(holder.embedder);
        return;
      }
      const found = waiting.get(message.id);
      if (!found) return;
      waiting.delete(message.id);
      found.resolve(message);
    });
    port.on('close', () => {
      for (const found of waiting.values()) found.reject(unavailable('the embedding worker stopped'));
      waiting.clear();
    });
    // The client must not keep its thread alive on its own: the owner closes the port when done.
    port.unref();
    const table = options.staticQueries === true;
    const reply = await request(port, waiting, nextId, (id) => ({ type: EMBED_INFO, id, ...(table ? { table } : {}) }));
    if (reply.type !== EMBED_INFO) throw unavailable('the embedding worker answered out of turn');
    return new EmbedClient(port, reply.info, priority, waiting, nextId, holder);
  }

  /** Whether cues are embedded here by the static query table (received from the worker). */
  get staticQueries(): boolean {
    return this.#static.embedder !== undefined;
  }

  /** Resolves once the static query table has arrived (never, if it is not coming: bound it). */
  staticQueriesReady(): Promise<void> {
    if (this.#static.embedder) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.#static.onReady;
      this.#static.onReady = (embedder) => {
        previous?.(embedder);
        resolve();
      };
    });
  }

  async embedQuery(text: string, signal?: AbortSignal): Promise<QueryVector> {
    signal?.throwIfAborted();
    const table = this.#static.embedder;
    if (table && table.dimension === this.dimension) return { vector: table.embed(text), static: true };
    const [vector] = await this.embed([text], signal);
    return { vector, static: false };
  }

  async embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    signal?.throwIfAborted();
    const pending = request(this.#port, this.#waiting, this.#nextId, (id) => ({ type: EMBED_TEXTS, id, texts, priority: this.#priority }));
    const reply = await (signal ? abortable(pending, signal) : pending);
    if (reply.type === EMBED_FAILED) throw new CmpError('INTERNAL_ERROR', `embedding failed: ${reply.message}`);
    if (reply.type !== EMBED_DONE) throw unavailable('the embedding worker answered out of turn');
    return texts.map((_, index) => reply.vectors.subarray(index * this.dimension, (index + 1) * this.dimension));
  }

  close(): void {
    this.#port.close();
  }
}

function request(port: MessagePort, waiting: Map<number, Waiting>, nextId: { value: number }, message: (id: number) => ClientMessage): Promise<WorkerReply> {
  const id = nextId.value++;
  return new Promise<WorkerReply>((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    // A port with calls outstanding keeps its thread alive until they are answered.
    port.ref();
    port.postMessage(message(id));
  }).finally(() => {
    if (waiting.size === 0) port.unref();
  });
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function unavailable(message: string): CmpError {
  return new CmpError('STORE_UNAVAILABLE', message, { retryAfter: 1 });
}
