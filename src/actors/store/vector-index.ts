import {
  closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, readSync, renameSync, rmSync, statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import hnswlib from 'hnswlib-node';
import { CmpError, invalidField } from '../../cmp/errors.js';
import { isSealed, type ValueCipher } from './value-cipher.js';

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
// Snapshot layout (save/load). The commit point is one small file, as in LevelDB's CURRENT:
//
//   <dir>/CURRENT                                 "snapshot-000007 <manifest CRC-32>\n": the complete
//                                                 snapshot to load, and the checksum of its manifest
//   <dir>/snapshot-000007/manifest.json           format, caller meta, per graph: space, dimension,
//                                                 file, byte length, CRC-32, label map, free list
//   <dir>/snapshot-000007/<space-encoded>/<dimension>.hnsw   hnswlib writeIndex output
//
// save writes a new snapshot directory, fsyncs it, then replaces CURRENT by rename; a crash at any
// point leaves CURRENT naming either the old or the new snapshot, both complete. Stale snapshot
// directories are removed after the switch (and by the next save if a crash interrupted that).
// load verifies the manifest against the CRC in CURRENT (a flipped byte in an id would otherwise
// silently answer the wrong record), and each .hnsw file's length, CRC-32 and header (element count,
// vector size) *before* handing it to hnswlib, whose loader trusts offsets in the file: a damaged
// file can crash the process rather than throw.
//
// Rebuilding is `VectorIndex.rebuild(options, entries)` = a new index plus one upsert per entry; the
// caller does it from LevelDB whenever load answers `{ error }`.

/** Version of the snapshot layout above; load refuses any other. */
export const VECTOR_INDEX_FORMAT = 1;

export interface VectorIndexOptions {
  /**
   * Links per node (hnswlib `M`); layer 0 keeps 2·M. More links: better recall, more memory
   * (≈ 8·M bytes per vector) and slower inserts. Unitless, default 16, range 2..128.
   */
  m: number;
  /**
   * Candidate list size while inserting (hnswlib `ef_construction`). Higher builds a better graph,
   * inserts slow down roughly linearly. Candidates, default 200, range 8..4096.
   */
  efConstruction: number;
  /**
   * Candidate list size while searching (hnswlib `ef`); a search uses max(efSearch, k). Higher:
   * better recall, slower queries. Candidates, default 64, range 1..4096.
   */
  efSearch: number;
  /**
   * Slots allocated when a (space, dimension) graph is created; a full graph doubles (resizeIndex).
   * Vectors, default 1024, range 1..2^31.
   */
  initialCapacity: number;
  /** Seed of hnswlib's level generator, so a build is reproducible. Integer, default 100, range ≥ 0. */
  randomSeed: number;
}

export const defaultVectorIndexOptions: Readonly<VectorIndexOptions> = Object.freeze({
  m: 16,
  efConstruction: 200,
  efSearch: 64,
  initialCapacity: 1024,
  randomSeed: 100,
});

export type VectorInput = Float32Array | readonly number[];

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

export type SnapshotMeta = Record<string, unknown>;

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
}

interface ManifestGraph {
  space: string;
  dimension: number;
  file: string;
  bytes: number;
  crc32: number;
  ids: (string | null)[];
  free: number[];
}

interface Manifest {
  format: number;
  meta: SnapshotMeta;
  graphs: ManifestGraph[];
}

const CURRENT = 'CURRENT';
const MANIFEST = 'manifest.json';
const SNAPSHOT_NAME = /^snapshot-(\d{6,})$/;
const MAX_DIRECTORY_NAME = 255;

export class VectorIndex {
  readonly options: Readonly<VectorIndexOptions>;
  /** space → dimension → graph. */
  readonly #spaces = new Map<string, Map<number, Graph>>();

  constructor(options: Partial<VectorIndexOptions> = {}) {
    this.options = Object.freeze(resolveOptions(options));
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
      if (label !== undefined) return graph.hnsw.getPoint(label);
    }
    return undefined;
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
    const unit = normalise(vector, `VectorIndex: cannot compare in space "${space}"`);
    const graph = this.#spaces.get(space)?.get(unit.length);
    const label = graph?.labels.get(id);
    if (graph === undefined || label === undefined) return undefined;
    const stored = graph.hnsw.getPoint(label);
    let dot = 0;
    let norm = 0;
    for (let i = 0; i < unit.length; i++) {
      dot += unit[i]! * stored[i]!;
      norm += stored[i]! * stored[i]!;
    }
    return norm > 0 ? dot / Math.sqrt(norm) : undefined;
  }

  /**
   * Writes every graph with a live vector as a new snapshot under `dir`, with `meta` (JSON-serialisable:
   * e.g. embedder name, last applied sequence) stored beside it, then switches CURRENT to it. Throws on
   * I/O failure; the previous snapshot then stays current. One writer per `dir`.
   */
  save(dir: string, meta: SnapshotMeta, cipher?: ValueCipher): SaveResult {
    const metaJson = JSON.stringify(meta); // fail on unserialisable meta before touching the disk
    if (metaJson === undefined || !isPlainObject(meta)) throw invalidField('meta', 'must be a JSON object');
    mkdirSync(dir, { recursive: true });
    const existing = snapshotNames(dir);
    const next = existing.reduce((max, name) => Math.max(max, snapshotNumber(name)), 0) + 1;
    const snapshot = `snapshot-${String(next).padStart(6, '0')}`;
    const root = join(dir, snapshot);
    mkdirSync(root);
    let written: { graphs: number; bytes: number; manifestCrc: number };
    try {
      written = this.#writeSnapshot(root, metaJson, cipher);
      syncDirectory(dir);
      writeDurably(join(dir, `${CURRENT}.tmp`), Buffer.from(`${snapshot} ${written.manifestCrc}\n`));
    } catch (error) {
      rmSync(root, { recursive: true, force: true }); // CURRENT still names the previous snapshot
      throw error;
    }
    // The commit point. Should the rename fail, CURRENT is unchanged and the next save removes `root`.
    renameSync(join(dir, `${CURRENT}.tmp`), join(dir, CURRENT));
    syncDirectory(dir);
    for (const name of existing) rmSync(join(dir, name), { recursive: true, force: true });
    return { snapshot, graphs: written.graphs, bytes: written.bytes };
  }

  /** Writes (and fsyncs) every graph with a live vector and the manifest into the directory `root`. */
  #writeSnapshot(root: string, metaJson: string, cipher?: ValueCipher): { graphs: number; bytes: number; manifestCrc: number } {
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
        space: graph.space, dimension: graph.dimension, file, bytes: written.bytes, crc32: written.crc32,
        ids: [...graph.ids], free: [...graph.free],
      });
    }
    for (const graph of graphs) syncDirectory(join(root, encodeSpace(graph.space)));
    const manifest = Buffer.from(
      `{"format":${VECTOR_INDEX_FORMAT},"meta":${metaJson},"graphs":${JSON.stringify(graphs)}}\n`,
    );
    bytes += writeDurably(join(root, MANIFEST), manifest);
    syncDirectory(root);
    return { graphs: graphs.length, bytes, manifestCrc: crc32(manifest) };
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
    let current: string;
    try {
      current = readFileSync(join(dir, CURRENT), 'utf8').trim();
    } catch (error) {
      throw new Error(`no ${CURRENT} file (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
    }
    const [snapshot, manifestCrc, ...rest] = current.split(' ');
    if (!SNAPSHOT_NAME.test(snapshot) || !/^\d+$/.test(manifestCrc ?? '') || rest.length > 0) {
      throw new Error(`${CURRENT} reads "${current}", not "<snapshot> <crc32>"`);
    }
    const root = join(dir, snapshot);
    const manifestBytes = readFileSync(join(root, MANIFEST));
    if (crc32(manifestBytes) !== Number(manifestCrc)) {
      throw new Error(`${snapshot}/${MANIFEST} fails its CRC-32 check (corrupt)`);
    }
    const manifest = parseManifest(manifestBytes.toString('utf8'));
    for (const entry of manifest.graphs) {
      const path = join(root, entry.file);
      const found = checksum(path, false);
      if (found.bytes !== entry.bytes) {
        throw new Error(`${entry.file} is ${found.bytes} bytes, the manifest says ${entry.bytes} (truncated?)`);
      }
      if (found.crc32 !== entry.crc32) throw new Error(`${entry.file} fails its CRC-32 check (corrupt)`);
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
        space: entry.space, dimension: entry.dimension, hnsw, ids: [...entry.ids], labels, free: [...entry.free],
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
      graph = { space, dimension, hnsw, ids: [], labels: new Map(), free: [] };
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
  graph.free.push(label);
  return true;
}

function resolveOptions(options: Partial<VectorIndexOptions>): VectorIndexOptions {
  const resolved = { ...defaultVectorIndexOptions, ...options };
  const ranges: Record<keyof VectorIndexOptions, [number, number]> = {
    m: [2, 128],
    efConstruction: [8, 4096],
    efSearch: [1, 4096],
    initialCapacity: [1, 2 ** 31],
    randomSeed: [0, 2 ** 32 - 1],
  };
  for (const [key, [min, max]] of Object.entries(ranges) as [keyof VectorIndexOptions, [number, number]][]) {
    const value = resolved[key];
    if (!Number.isInteger(value) || value < min || value > max) {
      throw invalidField(`vector_index.${key}`, `must be an integer in ${min}..${max}, got ${value}`);
    }
  }
  return resolved;
}

function checkSpace(space: string): void {
  if (typeof space !== 'string' || space.length === 0) throw invalidField('space', 'must be a non-empty string');
}

function checkId(id: string): void {
  if (typeof id !== 'string' || id.length === 0) throw invalidField('id', 'must be a non-empty string');
}

/**
 * The vector scaled to unit length as a plain array (hnswlib-node rejects Float32Array). hnswlib
 * normalises cosine vectors again in float32; doing it first in float64 keeps tiny or huge (but
 * float32-finite) vectors from under/overflowing there.
 */
function normalise(vector: VectorInput, context: string): number[] {
  const length = vector?.length;
  if (!Number.isInteger(length) || length === 0) {
    throw new CmpError('VALIDATION_ERROR', `${context}: the vector is empty`, { field: 'vector' });
  }
  const values = new Array<number>(length);
  let sumOfSquares = 0;
  for (let i = 0; i < length; i++) {
    const value = Math.fround(vector[i]); // what hnswlib will store
    if (!Number.isFinite(value)) {
      throw new CmpError('VALIDATION_ERROR', `${context}: element ${i} is ${vector[i]}, not a finite float32`, {
        field: 'vector',
      });
    }
    values[i] = value;
    sumOfSquares += value * value;
  }
  const norm = Math.sqrt(sumOfSquares);
  if (norm === 0 || !Number.isFinite(norm)) {
    throw new CmpError('VALIDATION_ERROR', `${context}: the vector has zero norm, so no direction to compare`, {
      field: 'vector',
    });
  }
  for (let i = 0; i < length; i++) values[i] /= norm;
  return values;
}

/**
 * A space name as one directory name, injective even on case-insensitive file systems: a-z 0-9 _ -
 * stay, every other UTF-8 byte becomes "." and two upper-case hex digits ("Work.v2" → ".57ork.2Ev2").
 * "." never appears unescaped, so "." and ".." cannot be produced.
 */
export function encodeSpace(space: string): string {
  let out = '';
  for (const byte of Buffer.from(space, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[a-z0-9_-]/.test(c) ? c : `.${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function graphFile(space: string, dimension: number): string {
  return `${encodeSpace(space)}/${dimension}.hnsw`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function snapshotNames(dir: string): string[] {
  return readdirSync(dir).filter((name) => SNAPSHOT_NAME.test(name));
}

function snapshotNumber(name: string): number {
  return Number(SNAPSHOT_NAME.exec(name)![1]);
}

const CHUNK = 8 * 1024 * 1024;

/** Length and CRC-32 of a file, read in chunks; with `sync`, also flushes it to disk (it was just written). */
function checksum(path: string, sync: boolean): { bytes: number; crc32: number } {
  const fd = openSync(path, sync ? 'r+' : 'r');
  try {
    const buffer = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(1, statSync(path).size)));
    let crc = 0;
    let bytes = 0;
    for (let read; (read = readSync(fd, buffer, 0, buffer.length, bytes)) > 0; bytes += read) {
      crc = crc32(buffer.subarray(0, read), crc);
    }
    if (sync) fsyncSync(fd);
    return { bytes, crc32: crc };
  } finally {
    closeSync(fd);
  }
}

function writeDurably(path: string, data: Buffer): number {
  const fd = openSync(path, 'w');
  try {
    writeFileSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return data.length;
}

/** Makes a rename or a new entry in `dir` durable. Some platforms cannot fsync a directory; skip there. */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL') throw error;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * The first fields of an hnswlib index file (hnswalg.h saveIndex: size_t each, little-endian on every
 * platform we ship) must agree with the manifest: hnswlib's loader takes the element size from the file
 * and the vector size from the space, and would read past each vector if they disagreed.
 */
/**
 * Loads a graph file into `hnsw` after checking its header. A sealed file (encryption at rest) is opened
 * with `cipher` into a private temporary file beside it (hnswlib reads only from a path), removed at once.
 */
function readGraph(hnsw: InstanceType<typeof HierarchicalNSW>, path: string, entry: ManifestGraph, cipher?: ValueCipher): void {
  const head = Buffer.alloc(4);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, head, 0, 4, 0);
  } finally {
    closeSync(fd);
  }
  if (!isSealed(head)) {
    checkHeader(path, entry);
    hnsw.readIndexSync(path, false);
    return;
  }
  if (cipher === undefined) throw new Error(`${entry.file} is encrypted and no store key is set`);
  const opened = `${path}.open`;
  try {
    writeFileSync(opened, cipher.open(readFileSync(path)), { mode: 0o600 });
    checkHeader(opened, entry);
    hnsw.readIndexSync(opened, false);
  } finally {
    rmSync(opened, { force: true });
  }
}

function checkHeader(path: string, entry: ManifestGraph): void {
  const header = Buffer.alloc(48);
  const fd = openSync(path, 'r');
  try {
    if (readSync(fd, header, 0, header.length, 0) !== header.length) throw new Error(`${entry.file} has no header`);
  } finally {
    closeSync(fd);
  }
  const elements = Number(header.readBigUInt64LE(16));
  const vectorBytes = Number(header.readBigUInt64LE(32) - header.readBigUInt64LE(40)); // label_offset − offsetData
  if (elements !== entry.ids.length) {
    throw new Error(`${entry.file} holds ${elements} slots, the label map ${entry.ids.length}`);
  }
  if (vectorBytes !== 4 * entry.dimension) {
    throw new Error(`${entry.file} holds ${vectorBytes / 4}-d vectors, the manifest says ${entry.dimension}`);
  }
}

function parseManifest(text: string): Manifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${MANIFEST} is not JSON (${(error as Error).message})`);
  }
  if (!isPlainObject(value)) throw new Error(`${MANIFEST} is not a JSON object`);
  if (value.format !== VECTOR_INDEX_FORMAT) {
    throw new Error(`${MANIFEST} has format ${JSON.stringify(value.format)}; this build reads ${VECTOR_INDEX_FORMAT}`);
  }
  if (!isPlainObject(value.meta)) throw new Error(`${MANIFEST} has no meta object`);
  if (!Array.isArray(value.graphs)) throw new Error(`${MANIFEST} has no graphs list`);
  return { format: value.format, meta: value.meta, graphs: value.graphs.map(parseGraphEntry) };
}

function parseGraphEntry(value: unknown, n: number): ManifestGraph {
  const bad = (what: string) => new Error(`${MANIFEST} graph ${n}: ${what}`);
  if (!isPlainObject(value)) throw bad('not an object');
  const { space, dimension, file, bytes, crc32: crc, ids, free } = value;
  if (typeof space !== 'string' || space.length === 0) throw bad('bad space');
  if (!Number.isInteger(dimension) || (dimension as number) < 1) throw bad('bad dimension');
  if (file !== graphFile(space, dimension as number)) throw bad(`file ${JSON.stringify(file)} is not where it belongs`);
  if (!Number.isInteger(bytes) || !Number.isInteger(crc)) throw bad('bad bytes or crc32');
  if (!Array.isArray(ids) || !ids.every((id) => id === null || (typeof id === 'string' && id.length > 0))) {
    throw bad('bad label map');
  }
  if (!Array.isArray(free)) throw bad('bad free list');
  // Every null slot is free and every free label is a null slot, each once.
  const nulls = ids.reduce((count: number, id) => count + (id === null ? 1 : 0), 0);
  const unique = new Set(free);
  if (unique.size !== free.length || free.length !== nulls || !free.every((l) => Number.isInteger(l) && ids[l] === null)) {
    throw bad('free list does not match the label map');
  }
  return {
    space, dimension: dimension as number, file, bytes: bytes as number, crc32: crc as number,
    ids: ids as (string | null)[], free: free as number[],
  };
}
