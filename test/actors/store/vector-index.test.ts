import { mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VectorIndex, type LoadResult, type VectorEntry, type VectorHit } from '../../../src/actors/store/vector-index.js';
import { defaultVectorIndexOptions } from '../../../src/actors/store/vector-options.js';
import { VECTOR_INDEX_FORMAT, encodeSpace } from '../../../src/actors/store/vector-snapshot.js';
import { prng } from '../../../bench/corpus.js';
import { cmpErrorOf } from '../../cmp/cmp-error.js';

// Real hnswlib-node, real files in a temp dir. Data is seeded, so every run sees the same vectors.

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cerememory-vector-index-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** `perCluster` points around each of `clusters` random centres in `dimension` dimensions. */
function clustered(options: { dimension: number; clusters: number; perCluster: number; noise: number; seed: number }) {
  const next = prng(options.seed);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  const centres = Array.from({ length: options.clusters }, () => Array.from({ length: options.dimension }, gaussian));
  const points: { id: string; cluster: number; vector: number[] }[] = [];
  for (let c = 0; c < options.clusters; c++) {
    for (let i = 0; i < options.perCluster; i++) {
      const vector = centres[c].map((x) => x + options.noise * gaussian());
      points.push({ id: `c${c}-p${i}`, cluster: c, vector });
    }
  }
  return { centres, points };
}

function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0,
    na = 0,
    nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
}

/** Exact top-k ids by brute force. */
function exactTop(points: { id: string; vector: number[] }[], query: number[], k: number): string[] {
  return points
    .map((p) => ({ id: p.id, similarity: cosine(p.vector, query) }))
    .sort((a, b) => b.similarity - a.similarity)
    .slice(0, k)
    .map((hit) => hit.id);
}

const ids = (hits: VectorHit[]) => hits.map((hit) => hit.id);

function loaded(result: LoadResult) {
  if ('error' in result) throw new Error(`expected a load, got: ${result.error}`);
  return result;
}

function loadError(result: LoadResult): string {
  if (!('error' in result)) throw new Error('expected { error }, got an index');
  return result.error;
}

/** The one snapshot directory CURRENT names. */
function currentSnapshot(): string {
  return join(dir, readFileSync(join(dir, 'CURRENT'), 'utf8').split(' ')[0]);
}

/** Edits the manifest and re-seals it (CURRENT carries its CRC), so the edit reaches the parser. */
function editManifest(edit: (text: string) => string): void {
  const name = readFileSync(join(dir, 'CURRENT'), 'utf8').split(' ')[0];
  const text = Buffer.from(edit(readFileSync(join(dir, name, 'manifest.json'), 'utf8')));
  writeFileSync(join(dir, name, 'manifest.json'), text);
  writeFileSync(join(dir, 'CURRENT'), `${name} ${crc32(text)}\n`);
}

const DATA_4D = clustered({ dimension: 4, clusters: 4, perCluster: 15, noise: 0.05, seed: 7 });

function indexOf(points: { id: string; vector: number[] }[], space = 'default', options = {}): VectorIndex {
  const index = new VectorIndex(options);
  for (const p of points) index.upsert(space, p.id, p.vector);
  return index;
}

describe('defaultVectorIndexOptions and the constructor', () => {
  it('has the documented defaults', () => {
    expect(defaultVectorIndexOptions).toEqual({ m: 16, efConstruction: 64, efSearch: 64, initialCapacity: 1024, randomSeed: 100 });
    expect(new VectorIndex({ efSearch: 100 }).options).toEqual({ ...defaultVectorIndexOptions, efSearch: 100 });
  });

  it('rejects an out-of-range option, naming it', () => {
    const error = cmpErrorOf(() => new VectorIndex({ m: 1 }));
    expect(error.code).toBe('VALIDATION_ERROR');
    expect(error.field).toBe('vector_index.m');
    expect(cmpErrorOf(() => new VectorIndex({ initialCapacity: 0 })).field).toBe('vector_index.initialCapacity');
    expect(cmpErrorOf(() => new VectorIndex({ efSearch: 1.5 })).field).toBe('vector_index.efSearch');
  });
});

describe('upsert', () => {
  it('accepts Float32Array and number[] alike', () => {
    const index = new VectorIndex();
    index.upsert('default', 'f32', new Float32Array([0.1, 0.2, 0.3, 0.4]));
    index.upsert('default', 'arr', [0.4, 0.3, 0.2, 0.1]);
    expect(index.count('default')).toBe(2);
    expect(index.search('default', new Float32Array([0.1, 0.2, 0.3, 0.4]), 1)[0].id).toBe('f32');
    expect(index.search('default', [0.4, 0.3, 0.2, 0.1], 1)[0].id).toBe('arr');
  });

  it('replaces the vector of an existing id', () => {
    const index = indexOf(DATA_4D.points);
    const moved = DATA_4D.points[0]; // from cluster 0 …
    const target = DATA_4D.centres[3]; // … to the centre of cluster 3
    index.upsert('default', moved.id, target);
    expect(index.count('default')).toBe(DATA_4D.points.length);
    const nearTarget = index.search('default', target, 1);
    expect(nearTarget).toEqual([{ id: moved.id, similarity: expect.closeTo(1, 5) }]);
    expect(ids(index.search('default', moved.vector, 15))).not.toContain(moved.id);
  });

  it('moves an id to another dimension when its new vector has another length', () => {
    const index = new VectorIndex();
    index.upsert('default', 'a', [1, 0, 0, 0]);
    index.upsert('default', 'a', [1, 0, 0, 0, 0, 0]);
    expect(index.count('default')).toBe(1);
    expect(index.search('default', [1, 0, 0, 0], 5)).toEqual([]);
    expect(ids(index.search('default', [1, 0, 0, 0, 0, 0], 5))).toEqual(['a']);
  });

  it.each([
    ['zero norm', [0, 0, 0, 0], 'zero norm'],
    ['NaN', [1, Number.NaN, 0, 0], 'element 1 is NaN'],
    ['Infinity', [1, 0, Number.POSITIVE_INFINITY, 0], 'element 2 is Infinity'],
    ['beyond float32', [1e39, 0, 0, 0], 'element 0 is 1e+39'],
    ['empty', [], 'empty'],
  ])('rejects a vector with %s and changes nothing', (_name, vector, reason) => {
    const index = new VectorIndex();
    index.upsert('default', 'kept', [0, 0, 0, 1]);
    const error = cmpErrorOf(() => index.upsert('default', 'kept', vector));
    expect(error.code).toBe('VALIDATION_ERROR');
    expect(error.message).toContain('cannot upsert id "kept" in space "default"');
    expect(error.message).toContain(reason);
    expect(ids(index.search('default', [0, 0, 0, 1], 5))).toEqual(['kept']);
  });

  it('compares by direction only, even for float32 magnitudes whose squares under- or overflow', () => {
    const index = new VectorIndex();
    index.upsert('default', 'tiny', [3e-30, 4e-30, 0, 0]);
    index.upsert('default', 'huge', [0, 0, 3e30, 4e30]);
    expect(index.search('default', [0.6, 0.8, 0, 0], 1)).toEqual([{ id: 'tiny', similarity: expect.closeTo(1, 5) }]);
    expect(index.search('default', [0, 0, 6, 8], 1)).toEqual([{ id: 'huge', similarity: expect.closeTo(1, 5) }]);
  });

  it('rejects an empty space or id', () => {
    const index = new VectorIndex();
    expect(cmpErrorOf(() => index.upsert('', 'a', [1, 0])).field).toBe('space');
    expect(cmpErrorOf(() => index.upsert('default', '', [1, 0])).field).toBe('id');
    expect(index.count('')).toBe(0);
  });

  it('grows past initialCapacity and keeps every vector findable', () => {
    const data = clustered({ dimension: 8, clusters: 10, perCluster: 10, noise: 0.05, seed: 11 });
    const index = indexOf(data.points, 'default', { initialCapacity: 4 });
    expect(index.count('default')).toBe(100);
    for (const p of data.points) expect(index.search('default', p.vector, 1)[0].id).toBe(p.id);
  });

  it('reuses the slots of removed ids instead of growing the graph', () => {
    const index = new VectorIndex();
    const points = DATA_4D.points.slice(0, 20);
    for (const p of points) index.upsert('default', p.id, p.vector);
    for (const p of points.slice(0, 10)) index.remove('default', p.id);
    for (const p of DATA_4D.points.slice(20, 30)) index.upsert('default', p.id, p.vector);
    index.save(dir, {});
    const manifest = JSON.parse(readFileSync(join(currentSnapshot(), 'manifest.json'), 'utf8'));
    expect(manifest.graphs[0].ids).toHaveLength(20);
    expect(manifest.graphs[0].free).toEqual([]);
    for (const p of DATA_4D.points.slice(10, 30)) expect(index.search('default', p.vector, 1)[0].id).toBe(p.id);
  });
});

describe('remove', () => {
  it('excludes the id from search and drops the count', () => {
    const index = indexOf(DATA_4D.points);
    const gone = DATA_4D.points[5];
    expect(index.remove('default', gone.id)).toBe(true);
    expect(index.count('default')).toBe(DATA_4D.points.length - 1);
    expect(ids(index.search('default', gone.vector, DATA_4D.points.length))).not.toContain(gone.id);
    expect(index.search('default', gone.vector, 100)).toHaveLength(DATA_4D.points.length - 1);
  });

  it('is a no-op for an unknown id, an unknown space, or a second remove', () => {
    const index = indexOf(DATA_4D.points.slice(0, 3));
    expect(index.remove('default', 'nobody')).toBe(false);
    expect(index.remove('elsewhere', DATA_4D.points[0].id)).toBe(false);
    expect(index.remove('default', DATA_4D.points[0].id)).toBe(true);
    expect(index.remove('default', DATA_4D.points[0].id)).toBe(false);
    expect(index.count('default')).toBe(2);
  });

  it('lets a removed id come back with a new vector', () => {
    const index = indexOf(DATA_4D.points);
    const back = DATA_4D.points[0];
    index.remove('default', back.id);
    index.upsert('default', back.id, DATA_4D.centres[2]);
    expect(index.has('default', back.id)).toBe(true);
    expect(index.search('default', DATA_4D.centres[2], 1)[0].id).toBe(back.id);
  });
});

describe('has', () => {
  it('is true only for live ids of that space', () => {
    const index = indexOf(DATA_4D.points.slice(0, 2));
    const [a, b] = DATA_4D.points;
    index.remove('default', b.id);
    expect(index.has('default', a.id)).toBe(true);
    expect(index.has('default', b.id)).toBe(false);
    expect(index.has('other', a.id)).toBe(false);
  });
});

describe('count', () => {
  it('counts live vectors of one space over all its dimensions', () => {
    const index = new VectorIndex();
    index.upsert('default', 'a', [1, 0, 0, 0]);
    index.upsert('default', 'b', [1, 0]);
    index.upsert('other', 'c', [1, 0]);
    expect(index.count('default')).toBe(2);
    expect(index.count('other')).toBe(1);
    expect(index.count('nowhere')).toBe(0);
  });
});

describe('search', () => {
  it('returns the nearest first, by descending similarity, matching exact search on clustered data (P3-4)', () => {
    const index = indexOf(DATA_4D.points);
    for (const [c, centre] of DATA_4D.centres.entries()) {
      const hits = index.search('default', centre, 10);
      expect(hits).toHaveLength(10);
      expect(ids(hits)).toEqual(exactTop(DATA_4D.points, centre, 10));
      expect(hits.every((hit) => hit.id.startsWith(`c${c}-`))).toBe(true);
      for (let i = 1; i < hits.length; i++) expect(hits[i - 1].similarity).toBeGreaterThanOrEqual(hits[i].similarity);
      for (const hit of hits) {
        const stored = DATA_4D.points.find((p) => p.id === hit.id)!;
        expect(hit.similarity).toBeCloseTo(cosine(stored.vector, centre), 5);
      }
    }
  });

  it('finds a stored vector itself first, with similarity 1', () => {
    const index = indexOf(DATA_4D.points);
    for (const p of DATA_4D.points) {
      const [top] = index.search('default', p.vector, 1);
      expect(top.id).toBe(p.id);
      expect(top.similarity).toBeCloseTo(1, 5);
    }
  });

  it('returns every live id when k exceeds the live count, and nothing for k = 0', () => {
    const index = indexOf(DATA_4D.points.slice(0, 5));
    index.remove('default', DATA_4D.points[0].id);
    expect(index.search('default', DATA_4D.centres[0], 5000)).toHaveLength(4); // > capacity (1024) too
    expect(index.search('default', DATA_4D.centres[0], 0)).toEqual([]);
    expect(cmpErrorOf(() => index.search('default', DATA_4D.centres[0], -1)).field).toBe('k');
  });

  it("never returns another space's ids", () => {
    const index = new VectorIndex();
    for (const p of DATA_4D.points) index.upsert(p.cluster % 2 === 0 ? 'even' : 'odd', p.id, p.vector);
    const hits = index.search('odd', DATA_4D.centres[0], 100); // a query at an even cluster
    expect(hits).toHaveLength(30);
    expect(hits.every((hit) => /^c[13]-/.test(hit.id))).toBe(true);
    expect(index.search('unknown', DATA_4D.centres[0], 10)).toEqual([]);
  });

  it("searches only vectors of the query's dimension", () => {
    const index = new VectorIndex();
    index.upsert('default', 'four', [1, 0, 0, 0]);
    index.upsert('default', 'three', [1, 0, 0]);
    expect(ids(index.search('default', [1, 0, 0, 0], 10))).toEqual(['four']);
    expect(ids(index.search('default', [1, 0, 0], 10))).toEqual(['three']);
    expect(index.search('default', [1, 0], 10)).toEqual([]);
  });

  it('rejects a zero-norm query', () => {
    const index = indexOf(DATA_4D.points);
    const error = cmpErrorOf(() => index.search('default', [0, 0, 0, 0], 3));
    expect(error.code).toBe('VALIDATION_ERROR');
    expect(error.message).toContain('zero norm');
  });
});

describe('similarities', () => {
  it("is the exact cosine of the cue with each id's vector, undefined for ids without one, the same after a save and load", () => {
    const data = clustered({ dimension: 32, clusters: 4, perCluster: 20, noise: 0.4, seed: 11 });
    const index = new VectorIndex({ initialCapacity: 16 });
    for (const p of data.points) index.upsert('a', p.id, p.vector);
    index.remove('a', data.points[3].id);
    const cue = data.centres[1];
    const asked = [data.points[0].id, data.points[3].id, 'never-stored', data.points[40].id];
    const expected = [cosine(cue, data.points[0].vector), undefined, undefined, cosine(cue, data.points[40].vector)];
    const check = (values: (number | undefined)[]) => values.forEach((value, i) => (expected[i] === undefined ? expect(value).toBeUndefined() : expect(value).toBeCloseTo(expected[i]!, 5)));
    check(index.similarities('a', asked, cue));
    expect(index.similarity('a', asked[0], cue)).toBe(index.similarities('a', asked, cue)[0]);
    expect(index.similarities('b', asked, cue)).toEqual([undefined, undefined, undefined, undefined]);
    index.save(dir, {});
    check(loaded(VectorIndex.load(dir)).index.similarities('a', asked, cue));
  });

  it("follows an id's replaced vector, and a removed id reused for another", () => {
    const index = new VectorIndex();
    index.upsert('a', 'x', [1, 0, 0]);
    expect(index.similarity('a', 'x', [1, 0, 0])).toBeCloseTo(1, 6);
    index.upsert('a', 'x', [0, 1, 0]);
    expect(index.similarity('a', 'x', [1, 0, 0])).toBeCloseTo(0, 6);
    index.remove('a', 'x');
    index.upsert('a', 'y', [0, 0, 1]); // takes x's slot
    expect(index.similarity('a', 'x', [0, 0, 1])).toBeUndefined();
    expect(index.similarity('a', 'y', [0, 0, 1])).toBeCloseTo(1, 6);
  });
});

describe('fillPoints', () => {
  it("reads a loaded index's points in steps, pausing between them, and answers the same afterwards", async () => {
    const data = clustered({ dimension: 8, clusters: 3, perCluster: 20, noise: 0.3, seed: 5 });
    const original = new VectorIndex({ initialCapacity: 16 });
    for (const p of data.points) original.upsert('a', p.id, p.vector);
    original.remove('a', data.points[7].id);
    original.save(dir, {});
    const { index: copy } = loaded(VectorIndex.load(dir));
    let pauses = 0;
    await copy.fillPoints(async () => {
      pauses += 1;
    }, 10);
    expect(pauses).toBe(Math.floor((data.points.length - 1) / 10));
    await copy.fillPoints(async () => {
      pauses += 1;
    }, 10);
    expect(pauses).toBe(Math.floor((data.points.length - 1) / 10)); // nothing left to read
    const ids = data.points.map((p) => p.id);
    const expected = original.similarities('a', ids, data.centres[0]);
    copy.similarities('a', ids, data.centres[0]).forEach((value, i) => (expected[i] === undefined ? expect(value).toBeUndefined() : expect(value).toBeCloseTo(expected[i]!, 6)));
    expect(copy.vector('a', data.points[0].id)!.length).toBe(8);
    expect(copy.search('a', data.centres[2], 10)).toEqual(original.search('a', data.centres[2], 10));
  });

  it('stops at its next step once stopFilling is called (a closing store), reading nothing more', async () => {
    const data = clustered({ dimension: 8, clusters: 2, perCluster: 30, noise: 0.3, seed: 9 });
    const original = new VectorIndex({ initialCapacity: 16 });
    for (const p of data.points) original.upsert('a', p.id, p.vector);
    original.save(dir, {});
    const { index: copy } = loaded(VectorIndex.load(dir));
    let pauses = 0;
    await copy.fillPoints(async () => {
      pauses += 1;
      if (pauses === 2) copy.stopFilling();
    }, 10);
    expect(pauses).toBe(2);
    // The rest are read when first compared, as before the pass.
    expect(copy.similarity('a', data.points[59].id, data.centres[0])).toBeCloseTo(original.similarity('a', data.points[59].id, data.centres[0])!, 6);
  });
});

describe('save', () => {
  it('writes CURRENT, a manifest and one .hnsw file per (space, dimension)', () => {
    const index = new VectorIndex();
    index.upsert('default', 'a', [1, 0, 0, 0]);
    index.upsert('Work.v2', 'b', [1, 0]);
    const result = index.save(dir, { embedder: 'builtin' });
    expect(result).toMatchObject({ snapshot: 'snapshot-000001', graphs: 2 });
    expect(readdirSync(dir).sort()).toEqual(['CURRENT', 'snapshot-000001']);
    expect(readdirSync(currentSnapshot()).sort()).toEqual(['.57ork.2Ev2', 'default', 'manifest.json']);
    expect(readdirSync(join(currentSnapshot(), 'default'))).toEqual(['4.hnsw']);
    expect(readdirSync(join(currentSnapshot(), '.57ork.2Ev2'))).toEqual(['2.hnsw']);
  });

  it('replaces the previous snapshot and removes it', () => {
    const index = indexOf(DATA_4D.points);
    index.save(dir, { sequence: 1 });
    index.upsert('default', 'late', [1, 2, 3, 4]);
    expect(index.save(dir, { sequence: 2 }).snapshot).toBe('snapshot-000002');
    expect(readdirSync(dir).sort()).toEqual(['CURRENT', 'snapshot-000002']);
    const { index: reloaded, meta } = loaded(VectorIndex.load(dir));
    expect(meta).toEqual({ sequence: 2 });
    expect(reloaded.has('default', 'late')).toBe(true);
  });

  it('leaves the old snapshot current when a save died before switching CURRENT', () => {
    indexOf(DATA_4D.points).save(dir, { sequence: 1 });
    // What a crash mid-save leaves: a newer, half-written snapshot directory that CURRENT does not name.
    mkdirSync(join(dir, 'snapshot-000002', 'default'), { recursive: true });
    writeFileSync(join(dir, 'snapshot-000002', 'default', '4.hnsw'), 'half');
    writeFileSync(join(dir, 'CURRENT.tmp'), 'snapshot-00');
    const { meta, index } = loaded(VectorIndex.load(dir));
    expect(meta).toEqual({ sequence: 1 });
    expect(index.count('default')).toBe(DATA_4D.points.length);
    // The next save writes past the debris and clears it.
    index.save(dir, { sequence: 3 });
    expect(readdirSync(dir).sort()).toEqual(['CURRENT', 'snapshot-000003']);
    expect(loaded(VectorIndex.load(dir)).meta).toEqual({ sequence: 3 });
  });

  it('throws when the switch fails, leaving the previous snapshot current and no debris', () => {
    const index = indexOf(DATA_4D.points);
    index.save(dir, { sequence: 1 });
    mkdirSync(join(dir, 'CURRENT.tmp')); // CURRENT cannot be rewritten: the last step of the save fails
    index.upsert('default', 'late', [1, 2, 3, 4]);
    expect(() => index.save(dir, { sequence: 2 })).toThrow(/EISDIR/);
    expect(readdirSync(dir).sort()).toEqual(['CURRENT', 'CURRENT.tmp', 'snapshot-000001']);
    const { meta, index: reloaded } = loaded(VectorIndex.load(dir));
    expect(meta).toEqual({ sequence: 1 });
    expect(reloaded.has('default', 'late')).toBe(false);
  });

  it('refuses meta that is not a JSON object, before writing anything', () => {
    const index = indexOf(DATA_4D.points.slice(0, 2));
    expect(cmpErrorOf(() => index.save(dir, [] as unknown as Record<string, unknown>)).field).toBe('meta');
    expect(() => index.save(dir, { big: 1n })).toThrow(TypeError);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('load', () => {
  it('round-trips: the same search results, counts and meta, and later edits behave the same', () => {
    const data = clustered({ dimension: 16, clusters: 20, perCluster: 30, noise: 0.3, seed: 3 });
    const original = new VectorIndex({ initialCapacity: 64 });
    for (const p of data.points) original.upsert(p.cluster < 10 ? 'a' : 'b', p.id, p.vector);
    for (const p of data.points.filter((_, i) => i % 7 === 0)) original.remove(p.cluster < 10 ? 'a' : 'b', p.id);
    original.upsert('a', 'tiny', [1, 2, 3]);
    const meta = { embedder: 'builtin-256', sequence: 4711, nested: { ok: true } };
    original.save(dir, meta);

    const { index: copy, meta: copyMeta } = loaded(VectorIndex.load(dir));
    expect(copyMeta).toEqual(meta);
    expect(copy.count('a')).toBe(original.count('a'));
    expect(copy.count('b')).toBe(original.count('b'));
    const queries = [...data.centres, ...data.points.slice(0, 50).map((p) => p.vector)];
    for (const space of ['a', 'b']) {
      for (const q of queries) expect(copy.search(space, q, 30)).toEqual(original.search(space, q, 30));
    }
    expect(copy.search('a', [1, 2, 3], 5)).toEqual(original.search('a', [1, 2, 3], 5));

    // The label map and free list came back too: the same edits give the same answers.
    for (const index of [original, copy]) {
      for (const p of data.points.filter((_, i) => i % 7 === 0)) index.upsert('a', `re-${p.id}`, p.vector);
      index.remove('b', data.points[data.points.length - 1].id);
    }
    for (const q of queries) expect(copy.search('a', q, 30)).toEqual(original.search('a', q, 30));
    expect(copy.count('b')).toBe(original.count('b'));
  });

  it('applies efSearch from the options to loaded graphs', () => {
    indexOf(DATA_4D.points).save(dir, {});
    expect(loaded(VectorIndex.load(dir, { efSearch: 300 })).index.options.efSearch).toBe(300);
  });

  it('round-trips an index with no vectors', () => {
    new VectorIndex().save(dir, { sequence: 0 });
    const { index, meta } = loaded(VectorIndex.load(dir));
    expect(meta).toEqual({ sequence: 0 });
    expect(index.count('default')).toBe(0);
  });

  it('answers { error } when there is no snapshot', () => {
    expect(loadError(VectorIndex.load(join(dir, 'never-written')))).toContain('no CURRENT file');
  });

  it('answers { error } after the .hnsw file is deleted', () => {
    indexOf(DATA_4D.points).save(dir, {});
    unlinkSync(join(currentSnapshot(), 'default', '4.hnsw'));
    expect(loadError(VectorIndex.load(dir))).toContain('ENOENT');
  });

  it('answers { error } after the .hnsw file is truncated', () => {
    indexOf(DATA_4D.points).save(dir, {});
    const file = join(currentSnapshot(), 'default', '4.hnsw');
    truncateSync(file, readFileSync(file).length - 100);
    expect(loadError(VectorIndex.load(dir))).toContain('truncated');
  });

  it('answers { error } after a byte of the .hnsw file flips', () => {
    indexOf(DATA_4D.points).save(dir, {});
    const file = join(currentSnapshot(), 'default', '4.hnsw');
    const bytes = readFileSync(file);
    bytes[200] ^= 0xff;
    writeFileSync(file, bytes);
    expect(loadError(VectorIndex.load(dir))).toContain('CRC-32');
  });

  it('answers { error } after a byte of the sidecar flips', () => {
    indexOf(DATA_4D.points).save(dir, {});
    const manifest = join(currentSnapshot(), 'manifest.json');
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('"c0-p1"', '"c0-p7"'));
    expect(loadError(VectorIndex.load(dir))).toContain('manifest.json fails its CRC-32 check');
  });

  it('answers { error } after the sidecar is truncated', () => {
    indexOf(DATA_4D.points).save(dir, {});
    const manifest = join(currentSnapshot(), 'manifest.json');
    truncateSync(manifest, 100);
    expect(loadError(VectorIndex.load(dir))).toContain('manifest.json fails its CRC-32 check');
  });

  it.each([
    ['is not JSON', (text: string) => text.slice(0, text.length / 2), 'not JSON'],
    ['has an unknown format version', (text: string) => text.replace('"format":1', '"format":99'), 'format 99; this build reads 1'],
    ['has a label map of the wrong length', (text: string) => text.replace('"ids":["', '"ids":["extra","'), 'holds 60 slots, the label map 61'],
    ['points outside its snapshot', (text: string) => text.replace('"file":"default/4.hnsw"', '"file":"../x/4.hnsw"'), 'not where it belongs'],
  ])('answers { error } when the sidecar %s, even with a matching CRC', (_name, corrupt, reason) => {
    indexOf(DATA_4D.points).save(dir, {});
    editManifest(corrupt);
    expect(loadError(VectorIndex.load(dir))).toContain(reason);
  });

  it('answers { error } when the .hnsw file holds vectors of another dimension than the sidecar says', () => {
    indexOf(DATA_4D.points).save(dir, {});
    const root = currentSnapshot();
    renameSync(join(root, 'default', '4.hnsw'), join(root, 'default', '5.hnsw'));
    editManifest((text) => text.replace('"dimension":4,"file":"default/4.hnsw"', '"dimension":5,"file":"default/5.hnsw"'));
    expect(loadError(VectorIndex.load(dir))).toContain('holds 4-d vectors, the manifest says 5');
  });

  it('answers { error } when CURRENT names no snapshot', () => {
    indexOf(DATA_4D.points).save(dir, {});
    writeFileSync(join(dir, 'CURRENT'), '../elsewhere 123\n');
    expect(loadError(VectorIndex.load(dir))).toContain('not "<snapshot> <crc32>"');
  });

  it('answers { error } for bad options instead of throwing', () => {
    indexOf(DATA_4D.points).save(dir, {});
    expect(loadError(VectorIndex.load(dir, { m: 0 }))).toContain('vector_index.m');
  });

  it(`still loads a frozen format-${VECTOR_INDEX_FORMAT} snapshot`, () => {
    // Written by this module with hnswlib-node 3.0.0: space "default" holds a = e1, c = (0.6, 0.8, 0, 0)
    // and a removed b (label 1, free); space "Work.v2" holds x = e3.
    const root = join(dir, 'snapshot-000001');
    mkdirSync(join(root, 'default'), { recursive: true });
    mkdirSync(join(root, '.57ork.2Ev2'), { recursive: true });
    writeFileSync(join(dir, 'CURRENT'), FROZEN_V1_CURRENT);
    writeFileSync(join(root, 'manifest.json'), FROZEN_V1_MANIFEST);
    writeFileSync(join(root, 'default', '4.hnsw'), Buffer.from(FROZEN_V1_DEFAULT_4D, 'base64'));
    writeFileSync(join(root, '.57ork.2Ev2', '4.hnsw'), Buffer.from(FROZEN_V1_WORK_4D, 'base64'));
    const { index, meta } = loaded(VectorIndex.load(dir));
    expect(meta).toEqual({ embedder: 'builtin', sequence: 3 });
    expect(index.search('default', [1, 0, 0, 0], 5)).toEqual([
      { id: 'a', similarity: expect.closeTo(1, 6) },
      { id: 'c', similarity: expect.closeTo(0.6, 6) },
    ]);
    expect(ids(index.search('Work.v2', [0, 0, 1, 0], 5))).toEqual(['x']);
    index.upsert('default', 'd', [0, 1, 0, 0]); // takes the free label 1
    expect(ids(index.search('default', [0, 1, 0, 0], 1))).toEqual(['d']);
  });
});

describe('rebuild', () => {
  it('gives the same top-k as the incremental index it replaces, on clustered data', () => {
    const data = clustered({ dimension: 32, clusters: 25, perCluster: 40, noise: 0.25, seed: 19 });
    const incremental = new VectorIndex({ initialCapacity: 128 });
    const live = new Map<string, VectorEntry>();
    for (const p of data.points) {
      incremental.upsert('default', p.id, p.vector);
      live.set(p.id, { space: 'default', id: p.id, vector: p.vector });
    }
    // History the rebuild never sees: removals and replaced vectors.
    for (const p of data.points.filter((_, i) => i % 5 === 0)) {
      incremental.remove('default', p.id);
      live.delete(p.id);
    }
    for (const p of data.points.filter((_, i) => i % 5 === 1)) {
      // Into the next cluster, keeping the point's own offset from its centre (distinct, no exact ties).
      const own = data.centres[p.cluster];
      const vector = data.centres[(p.cluster + 1) % data.centres.length].map((x, i) => x + p.vector[i] - own[i]);
      incremental.upsert('default', p.id, vector);
      live.set(p.id, { space: 'default', id: p.id, vector });
    }
    const rebuilt = VectorIndex.rebuild({ initialCapacity: 128 }, live.values());
    expect(rebuilt.count('default')).toBe(incremental.count('default'));
    const entries = [...live.values()].map((e) => ({ id: e.id, vector: e.vector as number[] }));
    for (const centre of data.centres) {
      const exact = exactTop(entries, centre, 10);
      expect(ids(rebuilt.search('default', centre, 10))).toEqual(exact);
      expect(ids(incremental.search('default', centre, 10))).toEqual(exact);
    }
  });

  it('is new VectorIndex(options) plus upserts in order', () => {
    const rebuilt = VectorIndex.rebuild({ efSearch: 80 }, [
      { space: 's', id: 'a', vector: [1, 0] },
      { space: 's', id: 'a', vector: [0, 1] },
    ]);
    expect(rebuilt.options.efSearch).toBe(80);
    expect(rebuilt.count('s')).toBe(1);
    expect(ids(rebuilt.search('s', [0, 1], 1))).toEqual(['a']);
  });
});

describe('encodeSpace', () => {
  it('keeps a-z 0-9 _ - and escapes the rest, so names differing only in case do not collide', () => {
    expect(encodeSpace('default')).toBe('default');
    expect(encodeSpace('Work.v2')).toBe('.57ork.2Ev2');
    expect(encodeSpace('..')).toBe('.2E.2E');
    expect(encodeSpace('alice')).not.toBe(encodeSpace('Alice').toLowerCase());
  });
});

const FROZEN_V1_MANIFEST =
  '{"format":1,"meta":{"embedder":"builtin","sequence":3},"graphs":[{"space":"Work.v2","dimension":4,"file":".57o' +
  'rk.2Ev2/4.hnsw","bytes":256,"crc32":2959356733,"ids":["x"],"free":[]},{"space":"default","dimension":4,"file":' +
  '"default/4.hnsw","bytes":576,"crc32":1620403237,"ids":["a",null,"c"],"free":[1]}]}\n';

const FROZEN_V1_DEFAULT_4D =
  'AAAAAAAAAAAEAAAAAAAAAAMAAAAAAAAAnAAAAAAAAACUAAAAAAAAAIQAAAAAAAAAAAAAAAAAAAAQAAAAAAAAACAAAAAAAAAAEAAAAAAAAAD+gi' +
  'tlRxXXP8gAAAAAAAAAAgAAAAEAAAACAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' +
  'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAACAPwAAAAAAAAAAAAAAAAAAAA' +
  'AAAAAAAgABAAAAAAACAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' +
  'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAgD8AAAAAAAAAAAEAAAAAAAAAAgAAAA' +
  'AAAAABAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' +
  'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAmpkZP83MTD8AAAAAAAAAAAIAAAAAAAAAAAAAAAAAAAAAAAAA';

const FROZEN_V1_WORK_4D =
  'AAAAAAAAAAAEAAAAAAAAAAEAAAAAAAAAnAAAAAAAAACUAAAAAAAAAIQAAAAAAAAAAAAAAAAAAAAQAAAAAAAAACAAAAAAAAAAEAAAAAAAAAD+gi' +
  'tlRxXXP8gAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' +
  'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAIA/AAAAAAAAAA' +
  'AAAAAAAAAAAA==';

const FROZEN_V1_CURRENT = 'snapshot-000001 2471446027\n';
