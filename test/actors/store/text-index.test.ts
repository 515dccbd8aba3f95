import { describe, it, expect } from 'vitest';
import { TextIndex, type TextDocument } from '../../../src/actors/store/text-index.js';
import { cmpErrorOf } from '../../cmp/cmp-error.js';

const doc = (body: string, summary: string | null = null): TextDocument => ({ body, summary });
const ids = (index: TextIndex, query: string, space = 'default', limit = 10) => index.search(space, query, limit).map((hit) => hit.id);

function indexOf(docs: Record<string, TextDocument>, space = 'default', index = new TextIndex()): TextIndex {
  for (const [id, d] of Object.entries(docs)) index.upsert(space, id, d);
  return index;
}

// Ten unrelated documents so that IDF is meaningful in ranking tests.
const FILLER = Object.fromEntries(
  ['red apple', 'green pear', 'blue sky', 'loud music', 'cold coffee', 'warm bread', 'fast car', 'slow boat', 'tall tree', 'short film'].map((body, i) => [`filler-${i}`, doc(body)]),
);

describe('upsert', () => {
  it('makes a document findable by any of its words', () => {
    const index = indexOf({ fox: doc('The quick brown fox jumps over the lazy dog'), ...FILLER });
    expect(ids(index, 'quick')).toEqual(['fox']);
    expect(ids(index, 'QUICK!')).toEqual(['fox']);
  });

  it('indexes the summary: a summary-only document is searchable', () => {
    const index = indexOf({ s: doc('', 'meeting notes about the roadmap'), ...FILLER });
    expect(ids(index, 'roadmap')).toEqual(['s']);
  });

  it('replaces the old text: old words no longer match, new ones do', () => {
    const index = indexOf({ a: doc('kiwi smoothie recipe'), ...FILLER });
    index.upsert('default', 'a', doc('mango lassi recipe'));
    expect(ids(index, 'kiwi')).toEqual([]);
    expect(ids(index, 'mango')).toEqual(['a']);
    expect(index.size('default')).toBe(11);
  });

  it('removes a document whose body and summary are both blank (spec §5.1)', () => {
    const index = indexOf({ a: doc('kiwi'), b: doc('kiwi') });
    index.upsert('default', 'a', doc('  \n', '   '));
    index.upsert('default', 'c', doc('', null));
    expect(index.has('default', 'a')).toBe(false);
    expect(index.has('default', 'c')).toBe(false);
    expect(ids(index, 'kiwi')).toEqual(['b']);
  });

  it('keeps a document with text but no searchable words', () => {
    const index = indexOf({ a: doc('!!! the ...') });
    expect(index.has('default', 'a')).toBe(true);
    expect(ids(index, 'the')).toEqual([]);
  });

  it('finds inflected and accented forms through the shared tokenizer', () => {
    const index = indexOf({ d: doc('We deployed the café menu'), t: doc('東京タワーに行きました'), ...FILLER });
    expect(ids(index, 'deploying')).toEqual(['d']);
    expect(ids(index, 'CAFÉ')).toEqual(['d']);
    expect(ids(index, '東京')).toEqual(['t']);
  });
});

describe('remove', () => {
  it('leaves no stale hit', () => {
    const index = indexOf({ a: doc('zebra crossing'), b: doc('zebra stripes'), ...FILLER });
    index.remove('default', 'a');
    expect(ids(index, 'zebra crossing')).toEqual(['b']);
    expect(ids(index, 'crossing')).toEqual([]);
  });

  it('ignores an id that is not there', () => {
    const index = indexOf({ a: doc('zebra') });
    index.remove('default', 'nope');
    index.remove('elsewhere', 'a');
    expect(index.size('default')).toBe(1);
  });

  it('scores as if the removed documents had never been added, before and after compaction', () => {
    const words = ['amber', 'basil', 'cedar', 'delta', 'ember', 'fjord'];
    const final: Record<string, TextDocument> = {};
    for (let i = 0; i < 60; i++) final[`d${i}`] = doc(`${words[i % 6]} ${words[(i * 5) % 6]} ${words[(i * 7 + 1) % 6]} note ${i}`);
    const queries = ['amber', 'basil cedar', 'note', '"delta ember"', 'fjord -amber'];
    const expected = queries.map((q) => indexOf(final).search('default', q, 100));

    for (const options of [{}, { compaction: { minDeleted: 1, minDeletedFraction: 0 } }]) {
      const index = new TextIndex(options);
      for (let i = 0; i < 90; i++) index.upsert('default', `d${i}`, doc(`${words[i % 6]} filler words ${i}`));
      for (const [id, d] of Object.entries(final)) index.upsert('default', id, d); // replaces d0–d59
      for (let i = 60; i < 90; i++) index.remove('default', `d${i}`);
      expect(queries.map((q) => index.search('default', q, 100))).toEqual(expected);
    }
  });
});

describe('has', () => {
  it('tells whether an id is indexed in that space', () => {
    const index = indexOf({ a: doc('kiwi') }, 'one');
    expect(index.has('one', 'a')).toBe(true);
    expect(index.has('two', 'a')).toBe(false);
    index.remove('one', 'a');
    expect(index.has('one', 'a')).toBe(false);
  });
});

describe('size', () => {
  it('counts the documents of one space', () => {
    const index = indexOf({ a: doc('kiwi'), b: doc('lime') }, 'one');
    indexOf({ c: doc('kiwi') }, 'two', index);
    index.upsert('one', 'a', doc('kiwi again'));
    expect(index.size('one')).toBe(2);
    expect(index.size('two')).toBe(1);
    expect(index.size('three')).toBe(0);
  });
});

describe('search', () => {
  it('ranks a document matching more query terms higher (BM25)', () => {
    const index = indexOf({
      one: doc('the release checklist'),
      two: doc('the release checklist for staging'),
      three: doc('the release checklist for staging rollback'),
      ...FILLER,
    });
    expect(ids(index, 'rollback staging checklist')).toEqual(['three', 'two', 'one']);
  });

  it('ranks a rarer term above a common one, and a higher term frequency above a lower', () => {
    const index = indexOf({
      common: doc('meeting'),
      rare: doc('budget'),
      also: doc('meeting'),
      again: doc('meeting'),
      ...FILLER,
    });
    expect(ids(index, 'meeting budget')[0]).toBe('rare');
    const tf = indexOf({ once: doc('alpaca wool sweater knit'), twice: doc('alpaca alpaca sweater knit'), ...FILLER });
    expect(ids(tf, 'alpaca')).toEqual(['twice', 'once']);
  });

  it('matches any of the query terms (OR)', () => {
    const index = indexOf({ a: doc('kiwi'), b: doc('lime'), c: doc('pear'), ...FILLER });
    expect(ids(index, 'kiwi lime').sort()).toEqual(['a', 'b']);
  });

  it('sums body and summary', () => {
    const index = indexOf({ both: doc('kiwi tart', 'kiwi'), body: doc('kiwi tart'), ...FILLER });
    expect(ids(index, 'kiwi')).toEqual(['both', 'body']);
  });

  it('orders by score descending, then by id', () => {
    const index = indexOf({ c: doc('same text'), a: doc('same text'), b: doc('same text'), ...FILLER });
    const hits = index.search('default', 'same', 10);
    expect(hits.map((h) => h.id)).toEqual(['a', 'b', 'c']);
    expect(hits[0].score).toBeGreaterThan(0);
    expect(new Set(hits.map((h) => h.score)).size).toBe(1);
  });

  it('returns at most `limit` hits, the best ones', () => {
    const docs: Record<string, TextDocument> = {};
    for (let i = 0; i < 300; i++) docs[`d${String(i).padStart(3, '0')}`] = doc(`kiwi ${'pad '.repeat(i % 7)}`);
    const index = indexOf(docs);
    const all = index.search('default', 'kiwi', 1000);
    expect(all).toHaveLength(300);
    expect(index.search('default', 'kiwi', 5)).toEqual(all.slice(0, 5));
    expect(index.search('default', 'kiwi', 200)).toEqual(all.slice(0, 200));
    expect(index.search('default', 'kiwi', 0)).toEqual([]);
  });

  it('a quoted phrase requires all of its terms (order and adjacency are not checked)', () => {
    const index = indexOf({
      exact: doc('the staging cluster failed'),
      reversed: doc('cluster of staging servers'),
      half: doc('the staging area'),
      ...FILLER,
    });
    expect(ids(index, '"staging cluster"').sort()).toEqual(['exact', 'reversed']);
    expect(ids(index, '"staging cluster" area').sort()).toEqual(['exact', 'half', 'reversed']);
    expect(ids(index, '"staging cluster').sort()).toEqual(['exact', 'reversed']);
  });

  it('-term excludes the documents that contain it', () => {
    const index = indexOf({ a: doc('kiwi tart'), b: doc('kiwi juice'), c: doc('kiwi jam juice'), ...FILLER });
    expect(ids(index, 'kiwi -juice')).toEqual(['a']);
    expect(ids(index, 'kiwi -juicing')).toEqual(['a']);
    expect(ids(index, 'kiwi -"jam juice"').sort()).toEqual(['a', 'b']);
  });

  it('returns nothing for a query without usable terms', () => {
    const index = indexOf({ a: doc('kiwi the and'), ...FILLER });
    for (const query of ['', '   ', 'the and of', '!!!', '-kiwi', '""', '-']) expect(ids(index, query)).toEqual([]);
  });

  it('keeps spaces apart: documents and scores', () => {
    const index = indexOf({ a: doc('kiwi tart'), b: doc('lime pie') }, 'one');
    const before = index.search('one', 'kiwi lime', 10);
    indexOf({ a: doc('lime sorbet'), x: doc('kiwi kiwi'), y: doc('kiwi'), z: doc('melon') }, 'two', index);
    expect(index.search('one', 'kiwi lime', 10)).toEqual(before);
    expect(ids(index, 'tart', 'two')).toEqual([]);
    expect(ids(index, 'sorbet', 'one')).toEqual([]);
    expect(ids(index, 'sorbet', 'two')).toEqual(['a']);
    expect(ids(index, 'kiwi', 'three')).toEqual([]);
  });
});

const QUERIES = ['deploying', 'deploy -bob', '"deploy review"', '東京', 'invoice', 'review friday'];

function sample(): TextIndex {
  const index = indexOf({
    m1: doc('Alice deployed the search index on Friday'),
    m2: doc('Bob reviewed the deploy job twice; deploy deploy', 'deploy review'),
    m3: doc('東京タワーに行きました'),
    gone: doc('temporary note'),
  });
  index.remove('default', 'gone');
  return indexOf({ w1: doc('quarterly invoice export') }, 'work', index);
}

const results = (index: TextIndex) => ['default', 'work'].flatMap((space) => QUERIES.map((q) => index.search(space, q, 10)));

describe('toJSON', () => {
  it('round-trips through JSON text to identical search results', () => {
    const index = sample();
    const loaded = TextIndex.fromJSON(JSON.stringify(index));
    expect(results(loaded)).toEqual(results(index));
    expect(loaded.size('default')).toBe(3);
    expect(loaded.has('default', 'gone')).toBe(false);
  });

  it('writes a snapshot that is a plain, versioned object', () => {
    const snapshot = sample().toJSON();
    expect(snapshot.serializationVersion).toBe(2);
    expect(Object.keys(snapshot.spaces).sort()).toEqual(['default', 'work']);
  });
});

// Written by the first version of text-index.ts (from `sample()`); it must keep loading (it has no turn links).
const FROZEN_V1 =
  '{"serializationVersion":1,"tokenizerVersion":1,"spaces":{"default":{"ids":["m1","m2","m3"],"body":{"lengths":[5,7,21],"postings":[["alic",[1]],["deploi",[1,1,-3]],["search",[1]],["index",[1]],["fridai",[1]],["bob",[2]],["review",[2]],["job",[2]],["twice",[2]],["東",[3]],["東京",[3]],["京",[3]],["京タ",[3]],["タ",[3]],["タワ",[3]],["ワ",[3]],["ワー",[3]],["ー",[3]],["ーに",[3]],["に",[3]],["に行",[3]],["行",[3]],["行き",[3]],["き",[3]],["きま",[3]],["ま",[3]],["まし",[3]],["し",[3]],["した",[3]],["た",[3]]]},"summary":{"lengths":[0,2,0],"postings":[["deploi",[2]],["review",[2]]]}},"work":{"ids":["w1"],"body":{"lengths":[3],"postings":[["quarterli",[1]],["invoic",[1]],["export",[1]]]},"summary":{"lengths":[0],"postings":[]}}}}';

describe('fromJSON', () => {
  it('loads a frozen version 1 snapshot', () => {
    const loaded = TextIndex.fromJSON(FROZEN_V1);
    expect(ids(loaded, 'deploying')).toEqual(['m2', 'm1']);
    expect(ids(loaded, 'invoice', 'work')).toEqual(['w1']);
    expect(results(loaded)).toEqual(results(sample()));
  });

  it('gives an index that keeps taking writes', () => {
    const loaded = TextIndex.fromJSON(FROZEN_V1);
    loaded.upsert('default', 'm1', doc('nothing left'));
    loaded.upsert('default', 'm4', doc('deploy again'));
    loaded.remove('default', 'm2');
    expect(ids(loaded, 'deploy')).toEqual(['m4']);
    expect(ids(loaded, 'left')).toEqual(['m1']);
  });

  it('refuses an unknown serialization version, saying so', () => {
    const error = cmpErrorOf(() => TextIndex.fromJSON(FROZEN_V1.replace('"serializationVersion":1', '"serializationVersion":3')));
    expect(error.code).toBe('INTERNAL_ERROR');
    expect(error.message).toBe('text index snapshot has serializationVersion 3; this build reads versions 1 and 2');
  });

  it('refuses a snapshot written by another tokenizer version', () => {
    const error = cmpErrorOf(() => TextIndex.fromJSON(FROZEN_V1.replace('"tokenizerVersion":1', '"tokenizerVersion":0')));
    expect(error.code).toBe('INTERNAL_ERROR');
    expect(error.message).toBe('text index snapshot was tokenized by tokenizer version 0; this build tokenizes with version 1, so the index must be rebuilt');
  });

  it('refuses malformed snapshots with INTERNAL_ERROR', () => {
    const broken = [
      'not json',
      '[]',
      '{"serializationVersion":1,"tokenizerVersion":1}',
      FROZEN_V1.replace('"lengths":[5,7,21]', '"lengths":[5,7]'),
      FROZEN_V1.replace('["alic",[1]]', '["alic",[9]]'),
      FROZEN_V1.replace('[1,1,-3]', '[-3,1,1]'),
      FROZEN_V1.replace('"ids":["m1","m2","m3"]', '"ids":["m1","m1","m3"]'),
      FROZEN_V1.replace('"ids":["m1","m2","m3"]', '"ids":["m1","m2","m3"],"before":[-1,0]'),
      FROZEN_V1.replace('"ids":["m1","m2","m3"]', '"ids":["m1","m2","m3"],"before":[-1,1,7]'),
    ];
    for (const json of broken) expect(cmpErrorOf(() => TextIndex.fromJSON(json)).code).toBe('INTERNAL_ERROR');
  });
});

describe('turn context', () => {
  // One conversation: the question's words are in the turn before the answer.
  const CONTEXT = { near: 0.5, far: 0.25 };
  function chat(index = new TextIndex()): TextIndex {
    const turns: [string, string][] = [
      ['t1', 'Did you ever adopt that dog from the shelter?'],
      ['t2', 'Yes! A beagle puppy, we named him Biscuit'],
      ['t3', 'He chews everything in the garden'],
      ['t4', 'Our neighbours grow tomatoes'],
    ];
    let before: string | undefined;
    for (const [id, body] of turns) {
      index.upsert('default', id, doc(body), before);
      before = id;
    }
    return indexOf(FILLER, 'default', index);
  }
  const search = (index: TextIndex, query: string) => index.search('default', query, 10, CONTEXT).map((hit) => hit.id);

  it('finds a turn by the words of the turns beside it, its own words first', () => {
    const index = chat();
    expect(ids(index, 'adopt shelter')).toEqual(['t1']);
    expect(search(index, 'adopt shelter')).toEqual(['t1', 't2', 't3']);
    // Two away gets half the share of one away.
    const [, near, far] = index.search('default', 'adopt shelter', 10, CONTEXT);
    expect(far.score).toBeLessThan(near.score);
  });

  it('reads the turns after a turn too', () => {
    const found = search(chat(), 'biscuit');
    expect(found[0]).toBe('t2');
    expect(new Set(found.slice(1, 3))).toEqual(new Set(['t1', 't3']));
    expect(found[3]).toBe('t4');
  });

  it('scores as without links when the context is 0, and for documents without links', () => {
    const index = chat();
    expect(index.search('default', 'beagle garden', 10, { near: 0, far: 0 })).toEqual(index.search('default', 'beagle garden', 10));
    const plain = indexOf({ a: doc('beagle puppy'), b: doc('garden hose'), ...FILLER });
    expect(plain.search('default', 'beagle garden', 10, CONTEXT)).toEqual(plain.search('default', 'beagle garden', 10));
  });

  it("judges quoted phrases and exclusions by a document's own words", () => {
    const index = chat();
    expect(search(index, '"beagle puppy"')).toEqual(['t2']);
    // t2 is dropped for its own "beagle"; t1, two before t3, is kept: its own words hold no beagle.
    expect(search(index, 'garden -beagle')).toEqual(['t3', 't4', 't1']);
  });

  it("drops a removed turn's words from its neighbours at once (forget)", () => {
    const index = chat();
    index.remove('default', 't2');
    expect(search(index, 'beagle biscuit')).toEqual([]);
    expect(search(index, 'garden')).toEqual(['t3', 't4']);
  });

  it("keeps the links of a turn replaced under a new slot (an update), and its neighbours' links to it", () => {
    const index = chat();
    index.upsert('default', 't2', doc('Yes! A beagle puppy called Biscuit'), 't1');
    expect(search(index, 'biscuit')).toEqual(search(chat(), 'biscuit'));
    index.upsert('default', 't3', doc('He chews everything in the garden'));
    expect(search(index, 'garden')).toEqual(['t3', 't4']);
  });

  it('keeps the links through compaction and a snapshot', () => {
    const index = chat(new TextIndex({ compaction: { minDeleted: 1, minDeletedFraction: 0 } }));
    index.upsert('default', 'gone', doc('temporary'));
    index.remove('default', 'gone');
    const expected = ['biscuit', 'adopt', 'garden tomatoes'].map((q) => index.search('default', q, 10, CONTEXT));
    expect(expected[0].map((hit) => hit.id)).toEqual(search(chat(), 'biscuit'));
    const loaded = TextIndex.fromJSON(JSON.stringify(index));
    expect(['biscuit', 'adopt', 'garden tomatoes'].map((q) => loaded.search('default', q, 10, CONTEXT))).toEqual(expected);
  });
});
