// The messages between the embedding worker (embed-worker.ts) and its clients (embed-client.ts), one
// named constant per message kind as between any two of our threads. A client holds one MessagePort;
// the worker answers on the port the request came from.

/** Who is waiting: a recall's cue (a user) goes before a store's backlog of record vectors. */
export type EmbedPriority = 'interactive' | 'bulk';

/** What the worker embeds with: the model, or the lexical fallback with the reason. */
export interface EmbedderInfo {
  name: string;
  dimension: number;
  /** Set when the semantic model could not load and the lexical embedder stands in. */
  fallbackReason?: string;
  /** Time to load the model, ms. */
  loadMs: number;
}

export const EMBED_INFO = 'embed.info';
export const EMBED_TEXTS = 'embed.texts';
export const EMBED_DONE = 'embed.done';
export const EMBED_FAILED = 'embed.failed';
/** main → worker (on parentPort): a new client's port. */
export const EMBED_CONNECT = 'embed.connect';
/** worker → main (on parentPort): the embedder is loaded (or the fallback is in place). */
export const EMBED_READY = 'embed.ready';
/**
 * worker → a client that asked for it: the static query table (static-query.ts), once distilled or
 * read from its cache; sent once, after the info reply. Never sent by the lexical fallback.
 */
export const EMBED_TABLE = 'embed.table';

export type ClientMessage =
  /** `table`: send this port the static query table when it is ready (a cue client). */
  { type: typeof EMBED_INFO; id: number; table?: boolean } | { type: typeof EMBED_TEXTS; id: number; texts: string[]; priority: EmbedPriority };

export type WorkerReply =
  | { type: typeof EMBED_INFO; id: number; info: EmbedderInfo }
  /** `vectors`: one Float32Array of texts.length × dimension (its buffer transferred). */
  | { type: typeof EMBED_DONE; id: number; vectors: Float32Array }
  | { type: typeof EMBED_FAILED; id: number; message: string }
  /** `table`: vocabulary.length × dimension piece rows in a SharedArrayBuffer (shared, read only). */
  | { type: typeof EMBED_TABLE; id?: undefined; table: Float32Array; vocabulary: Array<[string, number]> };

export interface EmbedWorkerData {
  /** Directory holding model.json, its weight shards and vocab.json; unset: the npm package's. */
  modelDir?: string;
  /**
   * Distil the static query table (embedding.query_vectors = "static") and cache it in this directory
   * (`<data_dir>/embedding`); unset: no table, every cue runs the model.
   */
  staticQueryDir?: string;
}
