import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EvolutionKeeper } from '../../../src/actors/hippocampus/evolution-keeper.js';
import { HippocampusState } from '../../../src/actors/hippocampus/state.js';
import { STORE_TYPES } from '../../../src/cmp/types.js';

// The evolution keeper (issue 18, move 1): when learned parameters reach the state file. A recall is a
// read: it never writes the file itself, nor fails when the disk does (issue 14, defect 7).

const configured = Object.fromEntries(STORE_TYPES.map((store) => [store, { decay_rate: 0.3, stability: 86_400, prune_threshold: 0.01 }])) as ConstructorParameters<
  typeof EvolutionKeeper
>[0]['configured'];

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function keeper(path: string, clock: { now: number }) {
  const lines: string[] = [];
  const kept = new EvolutionKeeper({ state: new HippocampusState(path), configured, now: () => clock.now, log: (line) => lines.push(line) });
  return { kept, lines };
}

const tempPath = () => {
  const dir = mkdtempSync(join(tmpdir(), 'evolution-keeper-'));
  dirs.push(dir);
  return join(dir, 'hippocampus.json');
};
const afterAnswer = () => new Promise((resolve) => setImmediate(resolve));
const savedHitRates = (path: string) => JSON.parse(readFileSync(path, 'utf8')).evolution.stores.episodic.hit_rates;

describe('EvolutionKeeper', () => {
  it('saves after a recall, not during it, and then at most every 5 s', async () => {
    const path = tempPath();
    const clock = { now: 1_000_000 };
    const { kept } = keeper(path, clock);
    kept.observeRecall('episodic', 0.5);
    expect(() => readFileSync(path)).toThrow();
    await afterAnswer();
    expect(savedHitRates(path)).toEqual([0.5]);
    clock.now += 1000;
    kept.observeRecall('episodic', 1);
    await afterAnswer();
    expect(savedHitRates(path)).toEqual([0.5]);
    clock.now += 5000;
    kept.observeRecall('episodic', 0.25);
    await afterAnswer();
    expect(savedHitRates(path)).toEqual([0.5, 1, 0.25]);
  });

  it('a decay tick is saved at once', () => {
    const path = tempPath();
    const { kept } = keeper(path, { now: 1_000_000 });
    kept.observeDecayTick([['episodic', [0, 3, 1]]]);
    expect(JSON.parse(readFileSync(path, 'utf8')).evolution.stores.episodic.fidelity_histogram.slice(0, 3)).toEqual([0, 3, 1]);
  });

  it('a failing disk is logged, never thrown, and the learned state stays in memory', async () => {
    const path = tempPath();
    // The state file's directory is a file: every write fails.
    writeFileSync(`${path}.dir`, '');
    const { kept, lines } = keeper(join(`${path}.dir`, 'hippocampus.json'), { now: 1_000_000 });
    kept.observeRecall('episodic', 0.5);
    kept.observeDecayTick([['semantic', [1]]]);
    await afterAnswer();
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines[0]).toMatch(/^hippocampus state not saved \(kept in memory, saved again later\)/);
    expect(() => kept.save()).toThrow();
    expect(kept.report().current_parameters).toHaveProperty('episodic');
  });
});
