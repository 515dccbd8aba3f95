import { describe, expect, it } from 'vitest';
import { isCmpError } from '../../src/cmp/errors.js';
import { LOCAL_EMBEDDER_NAME, LocalEmbedder, embedText } from '../../src/embedding/local.js';

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i] * b[i];
  return dot;
}

function norm(v: Float32Array): number {
  return Math.sqrt(cosine(v, v));
}

/** FNV-1a over the exact float32 bits: any change of the scheme changes it. */
function checksum(v: Float32Array): string {
  const bits = new Uint32Array(v.buffer, v.byteOffset, v.length);
  let h = 0x811c9dc5;
  for (const word of bits) h = Math.imul(h ^ word, 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

describe('embedText', () => {
  it('gives identical vectors for the same text', () => {
    const text = 'The deployment to production failed at 03:00 because the disk was full.';
    const a = embedText(text, 256);
    // Another text in between must not leave state behind in the scratch buffers.
    embedText('something else entirely, with 数据库 and many words words words', 256);
    const b = embedText(text, 256);
    expect(Array.from(b)).toEqual(Array.from(a));
  });

  it('handles a long text beyond the scratch table, and leaves nothing behind', () => {
    const text = 'memory store recall';
    const before = embedText(text, 256);
    // ~20k distinct words: the scratch grows past its retained size and is given back.
    const long = Array.from({ length: 20_000 }, (_, i) => `w${i.toString(36)}x`).join(' ');
    expect(norm(embedText(long, 256))).toBeCloseTo(1, 5);
    expect(Array.from(embedText(text, 256))).toEqual(Array.from(before));
  });

  it('keeps the local-hash-v1 scheme frozen (a changed checksum means a new scheme name)', () => {
    const v = embedText('Deploying the service to production, version 2.4 — 数据库 migration.', 256);
    expect(checksum(v)).toBe(FROZEN_CHECKSUM);
    expect(v.reduce((n, x) => n + (x !== 0 ? 1 : 0), 0)).toBe(FROZEN_NONZERO);
  });

  it('returns unit-length vectors', () => {
    for (const text of ['a', 'deploy', 'my cat likes fish', '記憶', 'x'.repeat(5000), 'to be or not to be']) {
      expect(norm(embedText(text, 256))).toBeCloseTo(1, 5);
    }
  });

  it('returns all zeros for empty or feature-less text', () => {
    for (const text of ['', '   ', '?!… — ...', '\n\t']) {
      const v = embedText(text, 64);
      expect(v).toHaveLength(64);
      expect(v.every((x) => x === 0)).toBe(true);
    }
  });

  it('still embeds a text made only of stopwords', () => {
    expect(norm(embedText('to be or not to be', 256))).toBeCloseTo(1, 5);
  });

  it('respects the dimension', () => {
    for (const dimension of [1, 16, 100, 256, 1024, 4096]) {
      expect(embedText('the quick brown fox', dimension)).toHaveLength(dimension);
    }
  });

  it('folds case and compatibility forms (NFKC + lowercase)', () => {
    const folded = embedText('ＤＥＰＬＯＹ Service', 128);
    expect(Array.from(folded)).toEqual(Array.from(embedText('deploy service', 128)));
  });

  it('rejects a dimension that is not a positive integer', () => {
    for (const dimension of [0, -3, 1.5, Number.NaN]) {
      let error: unknown;
      try {
        embedText('x', dimension);
      } catch (e) {
        error = e;
      }
      expect(isCmpError(error) && error.code).toBe('VALIDATION_ERROR');
    }
  });

  describe('similarity', () => {
    // [text, paraphrase sharing stems, unrelated text]
    const triples: Array<[string, string, string]> = [
      ['deploying the service to production', 'we deployed services in prod', 'my cat likes fish'],
      ['the database connection keeps timing out', 'connections to the database time out', 'she painted the kitchen walls blue'],
      ['I prefer dark mode in my editor', 'preferred editor theme: dark', 'the train to Berlin was delayed'],
      ['running unit tests before every commit', 'we run the tests before committing', 'bought groceries at the market'],
      ['user authentication failed with an invalid token', 'authenticating users fails for invalid tokens', 'the garden needs watering'],
    ];

    it.each(triples)('"%s" is closer to "%s" than to "%s"', (text, paraphrase, unrelated) => {
      const v = embedText(text, 256);
      const near = cosine(v, embedText(paraphrase, 256));
      const far = cosine(v, embedText(unrelated, 256));
      expect(near).toBeGreaterThan(0.5);
      expect(near - far).toBeGreaterThan(0.4);
    });

    it("gives every inflection of a word one stem, including Porter's y → i cases", () => {
      const deploy = embedText('deploy', 256);
      for (const word of ['deploying', 'deployed', 'deployment', 'deploys']) {
        expect(cosine(deploy, embedText(word, 256))).toBeCloseTo(1, 6);
      }
    });

    it.each([
      ['config', 'configuration'],
      ['postgres', 'postgresql'],
    ])('overlaps "%s" and "%s" beyond the stemmer through character n-grams', (short, long) => {
      const v = embedText(short, 256);
      const near = cosine(v, embedText(long, 256));
      expect(near).toBeGreaterThan(0.3);
      expect(near - cosine(v, embedText('fish', 256))).toBeGreaterThan(0.25);
    });

    it('gives CJK text non-zero vectors, closer when characters are shared', () => {
      const a = embedText('记忆数据库的设计', 256);
      const b = embedText('数据库设计文档', 256);
      const unrelated = embedText('今天天气很好', 256);
      expect(norm(a)).toBeCloseTo(1, 5);
      expect(norm(embedText('メモリーデータベース', 256))).toBeCloseTo(1, 5);
      expect(norm(embedText('기억 데이터베이스', 256))).toBeCloseTo(1, 5);
      expect(cosine(a, b)).toBeGreaterThan(0.3);
      expect(cosine(a, b) - cosine(a, unrelated)).toBeGreaterThan(0.3);
    });

    it('splits CJK from Latin inside one run of letters', () => {
      const mixed = embedText('我用Python写代码', 256);
      expect(cosine(mixed, embedText('python', 256))).toBeGreaterThan(0.2);
      expect(cosine(mixed, embedText('写代码', 256))).toBeGreaterThan(0.3);
    });
  });
});

describe('LocalEmbedder', () => {
  it('is named local-hash-v1 and defaults to 256 dimensions', () => {
    const embedder = new LocalEmbedder();
    expect(embedder.name).toBe(LOCAL_EMBEDDER_NAME);
    expect(embedder.name).toBe('local-hash-v1');
    expect(embedder.dimension).toBe(256);
  });

  it('embeds a batch in order, equal to embedText', async () => {
    const embedder = new LocalEmbedder({ dimension: 64 });
    const texts = Array.from({ length: 600 }, (_, i) => `memory number ${i} about topic ${i % 7}`);
    const vectors = await embedder.embed(texts);
    expect(vectors).toHaveLength(600);
    for (const i of [0, 255, 256, 599]) {
      expect(Array.from(vectors[i])).toEqual(Array.from(embedText(texts[i], 64)));
    }
  });

  it('stops when the signal is aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('caller gave up'));
    await expect(new LocalEmbedder().embed(['a'], controller.signal)).rejects.toThrow('caller gave up');
  });

  it('rejects a bad dimension naming the field', () => {
    expect(() => new LocalEmbedder({ dimension: 0 })).toThrow('embedding.dimension');
  });
});

// Computed once from local-hash-v1; never update these without renaming the scheme (stored vectors
// would silently stop matching new ones).
const FROZEN_CHECKSUM = 'ab9e5b30';
const FROZEN_NONZERO = 59;
