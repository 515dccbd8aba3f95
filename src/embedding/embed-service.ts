import { createInterface } from 'node:readline';
import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import { spawnWorker } from '../runtime/spawn-worker.js';
import { EmbedClient } from './embed-client.js';
import { EMBED_CONNECT, EMBED_READY, type EmbedderInfo, type EmbedWorkerData } from './embed-protocol.js';

// The main thread's handle on the embedding worker (embed-worker.ts): spawns it, hands out one port per
// client (each store worker gets its own at every (re)spawn), and stops it. The model loads while the
// store workers open their partitions: a store asks the worker what it embeds with before it compares
// its index snapshot, so the two starts overlap.

export class EmbeddingService {
  readonly #worker: Worker;
  readonly #ready: Promise<EmbedderInfo>;
  readonly #clients: EmbedClient[] = [];
  #stopping = false;

  private constructor(worker: Worker, log: (line: string) => void) {
    this.#worker = worker;
    createInterface({ input: worker.stderr, crlfDelay: Infinity }).on('line', log);
    this.#ready = new Promise<EmbedderInfo>((resolve, reject) => {
      worker.on('message', (message: { type: string; info?: EmbedderInfo }) => {
        if (message.type === EMBED_READY && message.info) resolve(message.info);
      });
      worker.once('error', reject);
      worker.once('exit', (code) => {
        reject(new Error(`the embedding worker exited with code ${code}`));
        if (!this.#stopping) log(`embedding: the embedding worker exited (code ${code}); records wait for vectors until the next start`);
      });
    });
  }

  static start(data: EmbedWorkerData, log: (line: string) => void): EmbeddingService {
    const worker = spawnWorker('./embed-worker', import.meta.url, { workerData: data, stderr: true });
    return new EmbeddingService(worker, log);
  }

  /** What the worker embeds with, once the model is loaded (or the fallback chosen). */
  ready(): Promise<EmbedderInfo> {
    return this.#ready;
  }

  /** A new port to the worker, for a store worker to connect with (EmbedClient.connect). */
  port(): MessagePort {
    const { port1, port2 } = new MessageChannel();
    this.#worker.postMessage({ type: EMBED_CONNECT, port: port1 }, [port1]);
    return port2;
  }

  /**
   * A client on this thread (the hippocampus's: cues are interactive); `staticQueries`: it embeds cues
   * by the static query table once the worker has it (embedding.query_vectors = "static").
   */
  async client(options: { staticQueries?: boolean } = {}): Promise<EmbedClient> {
    const client = await EmbedClient.connect(this.port(), 'interactive', options);
    this.#clients.push(client);
    return client;
  }

  async close(): Promise<void> {
    this.#stopping = true;
    for (const client of this.#clients) client.close();
    await this.#worker.terminate();
  }
}
