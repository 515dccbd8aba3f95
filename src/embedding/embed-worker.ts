import { join } from 'node:path';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { LOCAL_EMBEDDER_NAME, LocalEmbedder } from './local.js';
import { MODEL_BATCH, USE_LITE_EMBEDDER_NAME, UseLiteEmbedder, type Vocabulary } from './use-lite.js';
import { readPieceTable, writePieceTable, type PieceTableKey } from './static-query.js';
import type { Embedder } from './embedder.js';
import {
  EMBED_CONNECT,
  EMBED_DONE,
  EMBED_FAILED,
  EMBED_INFO,
  EMBED_READY,
  EMBED_TABLE,
  EMBED_TEXTS,
  type ClientMessage,
  type EmbedPriority,
  type EmbedderInfo,
  type EmbedWorkerData,
  type WorkerReply,
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
//
// The static query table (embedding.query_vectors = "static", static-query.ts): once the model is
// loaded (readiness is not held back for it), the worker reads the table from
// `<data_dir>/embedding/<model>.pieces.f32`, or, when that is missing, damaged or of another model,
// distils it: every vocabulary piece through the model, PIECE_SLICE pieces a turn (~6 s in all on a
// quiet machine), taking turns with the bulk queue and after any cue, then caches it (atomically). The
// table lives in a SharedArrayBuffer that every cue client that asked for it receives once: a cue is
// then embedded in the client's own thread, with no message to this one.

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

/** Pieces run through the model in one turn of the distillation (~0.1 s). */
const PIECE_SLICE = 128;

interface StaticTable {
  table: Float32Array;
  vocabulary: Vocabulary;
}

interface Distillation {
  embedder: UseLiteEmbedder;
  table: Float32Array;
  next: number;
  resolve: (table: Float32Array) => void;
  reject: (error: unknown) => void;
}

let distilling: Distillation | undefined;

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

const staticTable: Promise<StaticTable | undefined> = loading
  .then(async ({ embedder }) => {
    const dir = data.staticQueryDir;
    if (dir === undefined || !(embedder instanceof UseLiteEmbedder)) return undefined;
    const path = join(dir, `${embedder.name}.pieces.f32`);
    const size = embedder.vocabulary.length;
    const key: PieceTableKey = { model: embedder.name, fingerprint: embedder.fingerprint, vocabulary: size, dimension: embedder.dimension };
    const started = performance.now();
    const cached = readPieceTable(path, key);
    if (cached.table) {
      log(`static query table (${size} pieces) read from ${path} in ${Math.round(performance.now() - started)} ms`);
      return { table: cached.table, vocabulary: embedder.vocabulary };
    }
    log(`distilling the static query table (${cached.reason}): ${size} pieces, in the background; cues run the model until then`);
    const table = await new Promise<Float32Array>((resolve, reject) => {
      distilling = { embedder, table: new Float32Array(new SharedArrayBuffer(size * embedder.dimension * 4)), next: 0, resolve, reject };
      void run();
    });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    try {
      writePieceTable(path, key, table);
      log(`static query table distilled: ${size} pieces in ${seconds} s, cached in ${path}`);
    } catch (error) {
      log(`static query table distilled: ${size} pieces in ${seconds} s; could not cache it in ${path} (${error instanceof Error ? error.message : String(error)}): the next start distils it again`);
    }
    return { table, vocabulary: embedder.vocabulary };
  })
  .catch((error: unknown) => {
    log(`the static query table could not be made (${error instanceof Error ? error.message : String(error)}); cues run the model`);
    return undefined;
  });

/** One turn of the distillation; settles it after the last piece. */
async function distilSlice(work: Distillation): Promise<void> {
  const size = work.embedder.vocabulary.length;
  const end = Math.min(size, work.next + PIECE_SLICE);
  try {
    const ids = Array.from({ length: end - work.next }, (_, i) => work.next + i);
    work.table.set(await work.embedder.embedPieces(ids), work.next * work.embedder.dimension);
  } catch (error) {
    distilling = undefined;
    work.reject(error);
    return;
  }
  work.next = end;
  if (end >= size) {
    distilling = undefined;
    work.resolve(work.table);
  }
}

function reply(port: MessagePort, message: WorkerReply, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

function accept(port: MessagePort): void {
  port.on('message', (message: ClientMessage) => {
    if (message.type === EMBED_INFO) {
      void loading.then(({ info }) => reply(port, { type: EMBED_INFO, id: message.id, info }));
      if (message.table) {
        void staticTable.then((found) => {
          if (found) reply(port, { type: EMBED_TABLE, table: found.table, vocabulary: found.vocabulary });
        });
      }
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
    // The distillation and the bulk queue take turns; a cue goes before either.
    let bulkTurn = false;
    for (;;) {
      if (queues.interactive.length === 0 && distilling && !(bulkTurn && queues.bulk.length > 0)) {
        await distilSlice(distilling);
        bulkTurn = true;
        await new Promise<void>((resolve) => setImmediate(resolve));
        continue;
      }
      const queue = queues.interactive.length > 0 ? queues.interactive : queues.bulk;
      if (queue === queues.bulk) bulkTurn = false;
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
