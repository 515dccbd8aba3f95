import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import hnswlib from 'hnswlib-node';
import { invalidField } from '../../cmp/errors.js';
import { checksum, commitSnapshot, readCurrent, syncDirectory, writeDurably } from './snapshot-dir.js';
import type { ValueCipher } from './value-cipher.js';
import { cosineWithUnit, normalise, type VectorInput } from './vector-math.js';
import { resolveVectorIndexOptions, type VectorIndexOptions } from './vector-options.js';
import { MANIFEST, checkGraphFile, encodeSpace, graphFile, isPlainObject, manifestBytes, parseManifest, readGraph, type ManifestGraph, type SnapshotMeta } from './vector-snapshot.js';

const { HierarchicalNSW } = hnswlib;
type Hnsw = InstanceType<typeof HierarchicalNSW>;

// Approximate nearest-neighbour search over a store's embeddings (DESIGN §2 item 3): one cosine HNSW
// graph (hnswlib-node 3.0.0) per (space, dimension), created on first use. Spaces never share a graph,
// so a search cannot return another space's ids; dimensions never share one because a caller's 4-d
// embedding and the built-in embedder's 256-d one are not comparable. All calls are synchronous like
// hnswlib itself: the store worker owns the index and calls it from its own thread.
//
// Labels. hnswlib labels are integers; each graph keeps `ids[label] → id` and `labels: id → label`.
// A removed id is markDeleted and its label goes on a free list; the next new id reuses it, and
// hnswlib's addPoint on a deleted label unmarks it and rewires that same slot (updatePoint). So the
// graph never holds more slots than the peak live count, labels stay dense (0 … slots−1, an array not
// a map, in memory and in the sidecar), and the graph never needs `allowReplaceDeleted` — which would
// also make re-adding a deleted label throw, and must be repeated on every readIndex.
//
// Snapshots (save/load): a crash-safe snapshot directory (snapshot-dir.ts: CURRENT names the complete
// snapshot to load) holding a manifest and one hnswlib file per graph (vector-snapshot.ts, which checks
// every file before hnswlib reads it). Knobs and their defaults: vector-options.ts; the arithmetic:
// vector-math.ts.
//
// Rebuilding is `VectorIndex.rebuild(options, entries)` = a new index plus one upsert per entry; the
// caller does it from LevelDB whenever load answers `{ error }`.

export interface VectorHit {
  id: string;
  /** 1 − cosine distance: 1 for the same direction, 0 orthogonal, −1 opposite. */
  similarity: number;
}

export interface VectorEntry {
  space: string;
  id: string;
  vector: VectorInput;
}

export type LoadResult = { index: VectorIndex; meta: SnapshotMeta } | { error: string };

export interface SaveResult {
  /** Name of the snapshot directory CURRENT now names. */
  snapshot: string;
  /** Graphs written (those with at least one live vector). */
  graphs: number;
  /** Bytes written: .hnsw files plus the manifest. */
  bytes: number;
}

/** One (space, dimension) HNSW graph and its label map. */
interface Graph {
  readonly space: string;
  readonly dimension: number;
  readonly hnsw: Hnsw;
  /** label → id; null marks a deleted slot (its label is on `free`). */
  readonly ids: (string | null)[];
  /** id → label, live ids only. */
  readonly labels: Map<string, number>;
  /** Deleted labels, reused last-in first-out before a new slot is taken. */
  readonly free: number[];
  /**
   * label → the unit vector as stored (float32), kept from upsert or read once from hnswlib: recall
   * compares a cue with each of its text hits, and hnswlib-node's getPoint builds a JS array element by
   * element (~50 µs for 512 dimensions, most of a recall's time in a store). A loaded graph fills this
   * as its points are first compared and by fillPoints in the background, so a start waits for none.
   */
  readonly points: (Float32Array | undefined)[];
}

const MAX_DIRECTORY_NAME = 255;

export class VectorIndex {
  readonly options: Readonly<VectorIndexOptions>;
  /** space → dimension → graph. */
  readonly #spaces = new Map<string, Map<number, Graph>>();
  #stopped = false;

  constructor(options: Partial<VectorIndexOptions> = {}) {
    this.options = Object.freeze(resolveVectorIndexOptions(options));
  }

  /** A new index holding `entries`, inserted in order (later entries for an id replace earlier ones). */
  static rebuild(options: Partial<VectorIndexOptions>, entries: Iterable<VectorEntry>): VectorIndex {
    const index = new VectorIndex(options);
    for (const { space, id, vector } of entries) index.upsert(space, id, vector);
    return index;
  }

  /**
   * Indexes `vector` under `id` in `space`, replacing the id's previous vector (of any dimension).
   * Throws VALIDATION_ERROR for an empty id or space, or a vector that is empty, non-finite (as
   * float32) or of zero norm; nothing changes then.
   */
  upsert(space: string, id: string, vector: VectorInput): void {
    checkSpace(space);
    checkId(id);
    const unit = normalise(vector, `VectorIndex: cannot upsert id "${id}" in space "${space}"`);
    const graph = this.#graphFor(space, unit.length);
    const current = graph.labels.get(id);
    if (current !== undefined) {
      graph.hnsw.addPoint(unit, current); // an existing live label: hnswlib updates it in place
      graph.points[current] = Float32Array.from(unit);
      return;
    }
    this.#removeFromOtherDimensions(space, id, unit.length);
    const reused = graph.free.length > 0;
    const label = reused ? graph.free[graph.free.length - 1] : graph.ids.length;
    if (!reused && label >= graph.hnsw.getMaxElements()) {
      graph.hnsw.resizeIndex(Math.max(1, graph.hnsw.getMaxElements()) * 2);
    }
    graph.hnsw.addPoint(unit, label); // on a deleted label: unmarks it and rewires the slot
    if (reused) graph.free.pop();
    graph.ids[label] = id;
    graph.labels.set(id, label);
    graph.points[label] = Float32Array.from(unit);
  }

  /** Removes `id` from `space`; an unknown id (or space) is a no-op. Returns whether it was present. */
  remove(space: string, id: string): boolean {
    const graphs = this.#spaces.get(space);
    if (graphs === undefined) return false;
    for (const graph of graphs.values()) {
      if (removeFrom(graph, id)) return true;
    }
    return false;
  }

  /** Whether `id` has a live vector in `space`. */
  has(space: string, id: string): boolean {
    const graphs = this.#spaces.get(space);
    if (graphs === undefined) return false;
    for (const graph of graphs.values()) if (graph.labels.has(id)) return true;
    return false;
  }

  /** The (unit-length) vector indexed under `id` in `space`, or undefined. */
  vector(space: string, id: string): number[] | undefined {
    for (const graph of this.#spaces.get(space)?.values() ?? []) {
      const label = graph.labels.get(id);
      if (label !== undefined) return Array.from(pointOf(graph, label));
    }
    return undefined;
  }

  /**
   * Reads every stored point hnswlib holds into Graph.points, `step` at a time with `pause` awaited
   * between steps (a start from a snapshot reads none, and the first recalls would pay for each point
   * they compare). Safe beside writes and removals: a slot filled or emptied meanwhile is skipped.
   */
  async fillPoints(pause: () => Promise<void>, step = 20): Promise<void> {
    for (const graph of this.#graphsInOrder()) {
      let done = 0;
      for (let label = 0; label < graph.ids.length; label++) {
        if (this.#stopped) return;
        if (graph.ids[label] === null || graph.points[label] !== undefined) continue;
        pointOf(graph, label);
        if (++done % step === 0) await pause();
      }
    }
  }

  /**
   * Ends a fillPoints pass at its next step. The store calls it as it closes: its worker is terminated
   * next, and a thread stopped inside a native hnswlib call aborts the whole process.
   */
  stopFilling(): void {
    this.#stopped = true;
  }

  /** Live vectors in `space`, over all dimensions. */
  count(space: string): number {
    let total = 0;
    for (const graph of this.#spaces.get(space)?.values() ?? []) total += graph.labels.size;
    return total;
  }

  /**
   * The up to `k` live ids of `space` nearest to `vector` among vectors of the same dimension, by
   * descending similarity (ties by id). No vector of that dimension in the space → []. Approximate:
   * recall depends on efSearch. Throws VALIDATION_ERROR for a bad vector or k.
   */
  search(space: string, vector: VectorInput, k: number): VectorHit[] {
    if (!Number.isInteger(k) || k < 0) throw invalidField('k', `must be a non-negative integer, got ${k}`);
    const unit = normalise(vector, `VectorIndex: cannot search space "${space}"`);
    const graph = this.#spaces.get(space)?.get(unit.length);
    const wanted = Math.min(k, graph?.labels.size ?? 0);
    if (graph === undefined || wanted === 0) return [];
    const { distances, neighbors } = graph.hnsw.searchKnn(unit, wanted);
    const hits: VectorHit[] = [];
    for (let i = 0; i < neighbors.length; i++) {
      const id = graph.ids[neighbors[i]];
      if (id === null || id === undefined) continue; // deleted slots are excluded by hnswlib already
      hits.push({ id, similarity: 1 - distances[i] });
    }
    return hits.sort((a, b) => b.similarity - a.similarity || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /**
   * Cosine similarity of `vector` and the vector `id` holds in `space`, or undefined when the id has no
   * vector of that dimension. Exact (no graph walk): recall scores its text hits on both signals.
   */
  similarity(space: string, id: string, vector: VectorInput): number | undefined {
    return this.similarities(space, [id], vector)[0];
  }

  /** similarity() for each of `ids`, the cue normalised once. */
  similarities(space: string, ids: readonly string[], vector: VectorInput): (number | undefined)[] {
    const unit = normalise(vector, `VectorIndex: cannot compare in space "${space}"`);
    const graph = this.#spaces.get(space)?.get(unit.length);
    return ids.map((id) => {
      const label = graph?.labels.get(id);
      return graph === undefined || label === undefined ? undefined : cosineWithUnit(unit, pointOf(graph, label));
    });
  }

  /**
   * Writes every graph with a live vector as a new snapshot under `dir`, with `meta` (JSON-serialisable:
   * e.g. embedder name, last applied sequence) stored beside it, then switches CURRENT to it. Throws on
   * I/O failure; the previous snapshot then stays current. One writer per `dir`.
   */
  save(dir: string, meta: SnapshotMeta, cipher?: ValueCipher): SaveResult {
    const metaJson = JSON.stringify(meta); // fail on unserialisable meta before touching the disk
    if (metaJson === undefined || !isPlainObject(meta)) throw invalidField('meta', 'must be a JSON object');
    const written = commitSnapshot(dir, (root) => this.#writeSnapshot(root, metaJson, cipher));
    return { snapshot: written.snapshot, graphs: written.graphs, bytes: written.bytes };
  }

  /** Writes (and fsyncs) every graph with a live vector and the manifest into the directory `root`. */
  #writeSnapshot(root: string, metaJson: string, cipher?: ValueCipher): { graphs: number; bytes: number; checksum: number } {
    const graphs: ManifestGraph[] = [];
    let bytes = 0;
    for (const graph of this.#graphsInOrder()) {
      if (graph.labels.size === 0) continue;
      const file = graphFile(graph.space, graph.dimension);
      mkdirSync(join(root, encodeSpace(graph.space)), { recursive: true });
      graph.hnsw.writeIndexSync(join(root, file));
      // Encryption at rest: the graph file is sealed whole (its vectors say what a memory is about);
      // length and CRC are then those of the sealed file.
      if (cipher?.enabled) writeFileSync(join(root, file), cipher.seal(readFileSync(join(root, file))));
      const written = checksum(join(root, file), true);
      bytes += written.bytes;
      graphs.push({
        space: graph.space,
        dimension: graph.dimension,
        file,
        bytes: written.bytes,
        crc32: written.crc32,
        ids: [...graph.ids],
        free: [...graph.free],
      });
    }
    for (const graph of graphs) syncDirectory(join(root, encodeSpace(graph.space)));
    const manifest = manifestBytes(metaJson, graphs);
    bytes += writeDurably(join(root, MANIFEST), manifest);
    syncDirectory(root);
    return { graphs: graphs.length, bytes, checksum: crc32(manifest) };
  }

  /**
   * Loads the snapshot CURRENT names under `dir`. Never throws: a missing, truncated or corrupt file, or
   * an unknown format version, answers `{ error }` naming the problem, and the caller rebuilds from
   * LevelDB. efSearch comes from `options`; m and efConstruction of loaded graphs are those they were
   * built with, `options` apply to graphs created afterwards.
   */
  static load(dir: string, options: Partial<VectorIndexOptions> = {}, cipher?: ValueCipher): LoadResult {
    try {
      const index = new VectorIndex(options);
      const meta = index.#load(dir, cipher);
      return { index, meta };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return { error: `VectorIndex: cannot load the snapshot in ${dir}: ${reason}` };
    }
  }

  #load(dir: string, cipher?: ValueCipher): SnapshotMeta {
    const { snapshot, root, checksum: manifestCrc } = readCurrent(dir);
    const manifestData = readFileSync(join(root, MANIFEST));
    if (crc32(manifestData) !== manifestCrc) {
      throw new Error(`${snapshot}/${MANIFEST} fails its CRC-32 check (corrupt)`);
    }
    const manifest = parseManifest(manifestData.toString('utf8'));
    for (const entry of manifest.graphs) {
      const path = join(root, entry.file);
      checkGraphFile(path, entry);
      const hnsw = new HierarchicalNSW('cosine', entry.dimension);
      readGraph(hnsw, path, entry, cipher);
      if (hnsw.getCurrentCount() !== entry.ids.length) {
        throw new Error(`${entry.file} holds ${hnsw.getCurrentCount()} slots, the label map ${entry.ids.length}`);
      }
      hnsw.setEf(this.options.efSearch); // readIndex resets ef to 10
      const graphs = this.#spaceGraphs(entry.space);
      if (graphs.has(entry.dimension)) throw new Error(`${entry.file} is listed twice`);
      const labels = new Map<string, number>();
      entry.ids.forEach((id, label) => {
        if (id === null) return;
        if (labels.has(id) || this.has(entry.space, id)) {
          throw new Error(`id "${id}" appears twice in space "${entry.space}"`);
        }
        labels.set(id, label);
      });
      graphs.set(entry.dimension, {
        space: entry.space,
        dimension: entry.dimension,
        hnsw,
        ids: [...entry.ids],
        labels,
        free: [...entry.free],
        points: [],
      });
    }
    return manifest.meta;
  }

  /** The graph of (space, dimension), created empty on first use. */
  #graphFor(space: string, dimension: number): Graph {
    const graphs = this.#spaceGraphs(space);
    let graph = graphs.get(dimension);
    if (graph === undefined) {
      // The space names a snapshot directory; CMP spaces (≤ 64 of [A-Za-z0-9._-]) encode to ≤ 192 bytes.
      if (encodeSpace(space).length > MAX_DIRECTORY_NAME) throw invalidField('space', 'is too long to index');
      const hnsw = new HierarchicalNSW('cosine', dimension);
      hnsw.initIndex({
        maxElements: this.options.initialCapacity,
        m: this.options.m,
        efConstruction: this.options.efConstruction,
        randomSeed: this.options.randomSeed,
        allowReplaceDeleted: false, // see "Labels" above: we reuse deleted labels ourselves
      });
      hnsw.setEf(this.options.efSearch);
      graph = { space, dimension, hnsw, ids: [], labels: new Map(), free: [], points: [] };
      graphs.set(dimension, graph);
    }
    return graph;
  }

  #spaceGraphs(space: string): Map<number, Graph> {
    let graphs = this.#spaces.get(space);
    if (graphs === undefined) {
      graphs = new Map();
      this.#spaces.set(space, graphs);
    }
    return graphs;
  }

  #removeFromOtherDimensions(space: string, id: string, dimension: number): void {
    for (const graph of this.#spaces.get(space)?.values() ?? []) {
      if (graph.dimension !== dimension && removeFrom(graph, id)) return;
    }
  }

  /** Graphs sorted by space then dimension, so a manifest does not depend on insertion history. */
  #graphsInOrder(): Graph[] {
    const all = [...this.#spaces.values()].flatMap((graphs) => [...graphs.values()]);
    return all.sort((a, b) => (a.space < b.space ? -1 : a.space > b.space ? 1 : a.dimension - b.dimension));
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers.

function removeFrom(graph: Graph, id: string): boolean {
  const label = graph.labels.get(id);
  if (label === undefined) return false;
  graph.hnsw.markDelete(label);
  graph.labels.delete(id);
  graph.ids[label] = null;
  graph.points[label] = undefined;
  graph.free.push(label);
  return true;
}

/** The stored unit vector of a live label (see Graph.points). */
function pointOf(graph: Graph, label: number): Float32Array {
  let point = graph.points[label];
  if (point === undefined) {
    point = Float32Array.from(graph.hnsw.getPoint(label));
    graph.points[label] = point;
  }
  return point;
}

function checkSpace(space: string): void {
  if (typeof space !== 'string' || space.length === 0) throw invalidField('space', 'must be a non-empty string');
}

function checkId(id: string): void {
  if (typeof id !== 'string' || id.length === 0) throw invalidField('id', 'must be a non-empty string');
}
