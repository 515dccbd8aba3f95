import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { LOCAL_EMBEDDER_NAME, LocalEmbedder } from './local.js';
import { MODEL_BATCH, USE_LITE_EMBEDDER_NAME, UseLiteEmbedder } from './use-lite.js';
import type { Embedder } from './embedder.js';
import {
  EMBED_CONNECT, EMBED_DONE, EMBED_FAILED, EMBED_INFO, EMBED_READY, EMBED_TEXTS,
  type ClientMessage, type EmbedPriority, type EmbedderInfo, type EmbedWorkerData, type WorkerReply,
} from './embed-protocol.js';

// The embedding worker: one thread per process that holds the semantic model (issue 17) and embeds for
// everyone: the hippocampus's recall cues (main thread) and every store worker's backlog of record
// vectors, each over its own MessagePort. Why one thread rather than the model in each store worker:
// the model costs ~100 MiB and ~1 s to load, five copies would cost 0.5 GiB, and on two cores five
// threads running it would only take turns anyway. Why not the main thread: one 30-word text is ~40 ms
// of CPU, which would stall every request for that long.
//
// Scheduling: requests wait in two queues; an interactive one (a cue) always goes next. A bulk request
// is run MODEL_BATCH texts at a time with a turn of the event loop between slices, so a cue that
// arrives behind a store's backlog waits for at most one slice (~0.3–1 s of model time on a busy
// machine, ~0.3 s on a quiet one), never the whole backlog.

const data = (workerData ?? {}) as EmbedWorkerData;
const log = (line: string) => console.error(`embedding: ${line}`);

interface Job {
  port: MessagePort;
  id: number;
  texts: string[];
  vectors?: Float32Array;
  next: number;
}

const queues: Record<EmbedPriority, Job[]> = { interactive: [], bulk: [] };
let running = false;

const loading: Promise<{ embedder: Embedder; info: EmbedderInfo }> = (async () => {
  const started = performance.now();
  try {
    const embedder = await UseLiteEmbedder.load(data.modelDir);
    const loadMs = Math.round(performance.now() - started);
    return { embedder, info: { name: embedder.name, dimension: embedder.dimension, loadMs } };
  } catch (error) {
    const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    const embedder = new LocalEmbedder();
    log(`the semantic model (${USE_LITE_EMBEDDER_NAME}) could not load (${reason}); falling back to the lexical embedder ${LOCAL_EMBEDDER_NAME}/${embedder.dimension}`);
    const loadMs = Math.round(performance.now() - started);
    return { embedder, info: { name: embedder.name, dimension: embedder.dimension, fallbackReason: reason, loadMs } };
  }
})();

void loading.then(({ info }) => parentPort!.postMessage({ type: EMBED_READY, info }));

function reply(port: MessagePort, message: WorkerReply, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

function accept(port: MessagePort): void {
  port.on('message', (message: ClientMessage) => {
    if (message.type === EMBED_INFO) {
      void loading.then(({ info }) => reply(port, { type: EMBED_INFO, id: message.id, info }));
      return;
    }
    if (message.type === EMBED_TEXTS) {
      queues[message.priority].push({ port, id: message.id, texts: message.texts, next: 0 });
      void run();
    }
  });
  // A store worker that exits closes its end; its queued work is of no use to anyone.
  port.on('close', () => {
    for (const queue of Object.values(queues)) {
      for (let i = queue.length - 1; i >= 0; i--) if (queue[i].port === port) queue.splice(i, 1);
    }
  });
}

async function run(): Promise<void> {
  if (running) return;
  running = true;
  try {
    const { embedder } = await loading;
    for (;;) {
      const queue = queues.interactive.length > 0 ? queues.interactive : queues.bulk;
      const job = queue[0];
      if (!job) return;
      job.vectors ??= new Float32Array(job.texts.length * embedder.dimension);
      const slice = queue === queues.interactive ? job.texts.length : MODEL_BATCH;
      const end = Math.min(job.texts.length, job.next + slice);
      try {
        const embedded = await embedder.embed(job.texts.slice(job.next, end));
        embedded.forEach((vector, i) => job.vectors!.set(vector, (job.next + i) * embedder.dimension));
        job.next = end;
      } catch (error) {
        queue.shift();
        reply(job.port, { type: EMBED_FAILED, id: job.id, message: error instanceof Error ? error.message : String(error) });
        continue;
      }
      if (job.next >= job.texts.length) {
        queue.shift();
        reply(job.port, { type: EMBED_DONE, id: job.id, vectors: job.vectors }, [job.vectors.buffer as ArrayBuffer]);
      }
      // Let messages in (a cue, more work) before the next slice.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } finally {
    running = false;
  }
}

parentPort!.on('message', (message: { type: string; port?: MessagePort }) => {
  if (message.type === EMBED_CONNECT && message.port) accept(message.port);
});
