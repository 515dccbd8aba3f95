import { describe, expect, it } from 'vitest';
import { ARCHIVE_OPERATIONS, CMP_OPERATIONS } from '../../src/transports/operations.js';
import { CerememoryService } from '../../src/gen/cerememory/v1/cerememory_pb.js';

// The operations table is the only edge (issue 18, move 3): one row per operation with its parser, its
// run and its audit rule. What the rows say is pinned here; what a server does with them is pinned
// through the transports (test/security/audit-log.test.ts: entries from REST, Connect, background jobs).

const ROWS = { ...CMP_OPERATIONS, ...ARCHIVE_OPERATIONS };
const rule = (name: keyof typeof ROWS) => (ROWS[name] as { audit?: { afterAnswer?: boolean } }).audit;

describe('the operations table', () => {
  it('has one unary row per unary RPC of the service, and nothing else', () => {
    const unary = CerememoryService.methods.filter((method) => method.methodKind === 'unary').map((method) => method.localName);
    expect(Object.keys(CMP_OPERATIONS).sort()).toEqual(unary.sort());
  });

  it('audits the operations that change memory (reference spec §8.2), and only those', () => {
    const audited = Object.keys(ROWS).filter((name) => rule(name as keyof typeof ROWS) !== undefined);
    expect(audited.sort()).toEqual([
      'consolidate',
      'decayTick',
      'dreamTick',
      'encodeBatch',
      'encodeBatchStoreRaw',
      'encodeStore',
      'encodeStoreRaw',
      'encodeUpdate',
      'exportArchive',
      'forget',
      'importArchive',
      'prepareExport',
      'recallQuery',
      'setMode',
    ]);
  });

  it('lets only the recall (a read) and the synchronous mode change answer before their entry is flushed', () => {
    const early = Object.keys(ROWS).filter((name) => rule(name as keyof typeof ROWS)?.afterAnswer === true);
    expect(early.sort()).toEqual(['recallQuery', 'setMode']);
  });
});
