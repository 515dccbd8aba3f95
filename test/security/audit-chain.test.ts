import { describe, expect, it } from 'vitest';
import { canonicalJson, EMPTY_HEAD, entryLine, GENESIS_HASH, hashEntry, nextEntry, verifyChain, type AuditEntry } from '../../src/audit/chain.js';

// The pure hash chain (reference spec §8.2): every kind of tampering is found at the first entry it
// touches.

function chain(count: number): AuditEntry[] {
  const entries: AuditEntry[] = [];
  let head = EMPTY_HEAD;
  for (let i = 0; i < count; i += 1) {
    const entry = nextEntry(
      head,
      { operation: i % 2 ? 'lifecycle.forget' : 'encode.store', record_ids: [`id-${i}`], store_types: ['episodic'], summary: { space: 'default', n: i } },
      new Date(Date.UTC(2026, 0, 1, 0, 0, i)),
    );
    entries.push(entry);
    head = { sequence: entry.sequence, hash: entry.entry_hash };
  }
  return entries;
}
const text = (entries: AuditEntry[]) => entries.map(entryLine).join('');

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[1,{"y":2,"z":1}]},"b":1}');
  });
});

describe('nextEntry', () => {
  it('starts at sequence 1 from the genesis hash, and each entry commits to the one before', () => {
    const [first, second] = chain(2);
    expect(first).toMatchObject({ version: 1, sequence: 1, prev_hash: GENESIS_HASH, timestamp: '2026-01-01T00:00:00.000Z' });
    expect(first!.entry_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(second!.prev_hash).toBe(first!.entry_hash);
    const { entry_hash, ...body } = second!;
    expect(hashEntry(body)).toBe(entry_hash);
  });

  it('writes the fields in the reference’s order', () => {
    expect(Object.keys(chain(1)[0]!)).toEqual(['version', 'sequence', 'timestamp', 'operation', 'record_ids', 'store_types', 'summary', 'prev_hash', 'entry_hash']);
  });

  it('hashes independently of the summary’s key order', () => {
    const a = nextEntry(EMPTY_HEAD, { operation: 'x', record_ids: [], store_types: [], summary: { a: 1, b: 2 } }, new Date(0));
    const b = nextEntry(EMPTY_HEAD, { operation: 'x', record_ids: [], store_types: [], summary: { b: 2, a: 1 } }, new Date(0));
    expect(a.entry_hash).toBe(b.entry_hash);
  });
});

describe('verifyChain', () => {
  it('accepts an empty log and an intact one, reporting the head', () => {
    expect(verifyChain('')).toEqual({ entries: 0, head: EMPTY_HEAD });
    const entries = chain(5);
    expect(verifyChain(text(entries))).toEqual({ entries: 5, head: { sequence: 5, hash: entries[4]!.entry_hash } });
  });

  it('finds a flipped byte in an entry’s content at that entry', () => {
    const lines = text(chain(5)).split('\n');
    lines[2] = lines[2]!.replace('id-2', 'id-X');
    expect(verifyChain(lines.join('\n'))).toMatchObject({ entries: 2, broken: { line: 3, reason: expect.stringMatching(/hash mismatch/), torn: false } });
  });

  it('finds a flipped byte anywhere in the file', () => {
    const original = Buffer.from(text(chain(4)));
    for (let offset = 0; offset < original.length; offset += 7) {
      const bytes = Buffer.from(original);
      if (bytes[offset] === 0x0a) continue;
      bytes[offset] ^= 0x01;
      const line = original.subarray(0, offset).toString().split('\n').length;
      const report = verifyChain(bytes.toString('latin1'));
      expect(report.broken?.line, `byte ${offset}`).toBe(line);
    }
  });

  it('finds a deleted line at the entry that follows it', () => {
    const entries = chain(5);
    expect(verifyChain(text([...entries.slice(0, 2), ...entries.slice(3)]))).toMatchObject({
      entries: 2,
      broken: { line: 3, reason: 'sequence 4, expected 3' },
    });
  });

  it('finds reordered entries at the first one out of place', () => {
    const [a, b, c, d] = chain(4);
    expect(verifyChain(text([a!, c!, b!, d!]))).toMatchObject({ entries: 1, broken: { line: 2, reason: 'sequence 3, expected 2' } });
  });

  it('finds a re-chained forgery (sequence fixed, hash recomputed) by its prev_hash', () => {
    const entries = chain(3);
    const { entry_hash: _, ...body } = { ...entries[1]!, operation: 'innocent' };
    const forged = { ...body, entry_hash: hashEntry(body) };
    expect(verifyChain(text([entries[0]!, forged, entries[2]!]))).toMatchObject({
      broken: { line: 3, reason: 'prev_hash does not match the hash of entry 2' },
    });
  });

  it('reports blank lines, non-JSON and wrong versions by line', () => {
    const good = text(chain(2));
    expect(verifyChain(`${good}\n`).broken).toMatchObject({ line: 3, reason: 'blank line' });
    expect(verifyChain(`${good}{oops\n`).broken).toMatchObject({ line: 3, reason: 'not valid JSON' });
    const [first] = chain(1);
    expect(verifyChain(entryLine({ ...first!, version: 2 })).broken).toMatchObject({ line: 1, reason: expect.stringMatching(/unsupported version 2/) });
  });

  it('reports a torn last line (no newline) as an incomplete write', () => {
    const full = text(chain(3));
    const torn = full.slice(0, full.length - 40);
    expect(verifyChain(torn)).toMatchObject({ entries: 2, broken: { line: 3, torn: true, reason: expect.stringMatching(/incomplete last line/) } });
  });
});
