import { describe, expect, it } from 'vitest';
import { planMerge } from '../../../src/actors/hippocampus/archiver.js';

// The §3.17 merge rule as a table: the pure decision behind every imported record.

const OLD = '2026-01-01T00:00:00.000Z';
const NEW = '2026-06-01T00:00:00.000Z';

describe('planMerge', () => {
  it.each([
    ['a new id is written whatever the resolution', { store: 'episodic', updated_at: OLD }, undefined, 'keep_existing', { write: true }],
    ['keep_existing skips an existing id', { store: 'episodic', updated_at: NEW }, { store: 'episodic', updated_at: OLD }, 'keep_existing', { write: false }],
    ['keep_imported overwrites an older archive copy', { store: 'episodic', updated_at: OLD }, { store: 'episodic', updated_at: NEW }, 'keep_imported', { write: true }],
    ['keep_newer overwrites with a later copy', { store: 'episodic', updated_at: NEW }, { store: 'episodic', updated_at: OLD }, 'keep_newer', { write: true }],
    ['keep_newer keeps an equally new copy', { store: 'episodic', updated_at: OLD }, { store: 'episodic', updated_at: OLD }, 'keep_newer', { write: false }],
    ['keep_newer keeps a newer local copy', { store: 'episodic', updated_at: OLD }, { store: 'episodic', updated_at: NEW }, 'keep_newer', { write: false }],
    ['an overwrite across stores moves the record', { store: 'semantic', updated_at: NEW }, { store: 'episodic', updated_at: OLD }, 'keep_imported', { write: true, removeFrom: 'episodic' }],
  ] as const)('%s', (_name, incoming, existing, resolution, decision) => {
    expect(planMerge(incoming, existing, resolution)).toEqual(decision);
  });
});
