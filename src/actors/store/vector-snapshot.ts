import { closeSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import type hnswlib from 'hnswlib-node';
import { checksum } from './snapshot-dir.js';
import { isSealed, type ValueCipher } from './value-cipher.js';

// The vector index's snapshot format, inside a snapshot directory (snapshot-dir.ts, whose CURRENT
// records the CRC-32 of the manifest):
//
//   snapshot-000007/manifest.json           format, caller meta, per graph: space, dimension,
//                                           file, byte length, CRC-32, label map, free list
//   snapshot-000007/<space-encoded>/<dimension>.hnsw   hnswlib writeIndex output
//
// load verifies the manifest against the CRC in CURRENT (a flipped byte in an id would otherwise
// silently answer the wrong record), and each .hnsw file's length, CRC-32 and header (element count,
// vector size) *before* handing it to hnswlib, whose loader trusts offsets in the file: a damaged
// file can crash the process rather than throw.

type Hnsw = InstanceType<typeof hnswlib.HierarchicalNSW>;

/** Version of the snapshot layout above; load refuses any other. */
export const VECTOR_INDEX_FORMAT = 1;

export const MANIFEST = 'manifest.json';

export type SnapshotMeta = Record<string, unknown>;

/** One graph as the manifest lists it. */
export interface ManifestGraph {
  space: string;
  dimension: number;
  file: string;
  bytes: number;
  crc32: number;
  ids: (string | null)[];
  free: number[];
}

export interface Manifest {
  format: number;
  meta: SnapshotMeta;
  graphs: ManifestGraph[];
}

/** The manifest's bytes; `metaJson` is the caller's meta, already serialised (and so checked). */
export function manifestBytes(metaJson: string, graphs: readonly ManifestGraph[]): Buffer {
  return Buffer.from(`{"format":${VECTOR_INDEX_FORMAT},"meta":${metaJson},"graphs":${JSON.stringify(graphs)}}\n`);
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

export function graphFile(space: string, dimension: number): string {
  return `${encodeSpace(space)}/${dimension}.hnsw`;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Throws unless the graph file at `path` has the length and CRC-32 its manifest entry says. */
export function checkGraphFile(path: string, entry: ManifestGraph): void {
  const found = checksum(path, false);
  if (found.bytes !== entry.bytes) {
    throw new Error(`${entry.file} is ${found.bytes} bytes, the manifest says ${entry.bytes} (truncated?)`);
  }
  if (found.crc32 !== entry.crc32) throw new Error(`${entry.file} fails its CRC-32 check (corrupt)`);
}

/**
 * Loads a graph file into `hnsw` after checking its header. A sealed file (encryption at rest) is opened
 * with `cipher` into a private temporary file beside it (hnswlib reads only from a path), removed at once.
 */
export function readGraph(hnsw: Hnsw, path: string, entry: ManifestGraph, cipher?: ValueCipher): void {
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

/**
 * The first fields of an hnswlib index file (hnswalg.h saveIndex: size_t each, little-endian on every
 * platform we ship) must agree with the manifest: hnswlib's loader takes the element size from the file
 * and the vector size from the space, and would read past each vector if they disagreed.
 */
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

export function parseManifest(text: string): Manifest {
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
    space,
    dimension: dimension as number,
    file,
    bytes: bytes as number,
    crc32: crc as number,
    ids: ids as (string | null)[],
    free: free as number[],
  };
}
