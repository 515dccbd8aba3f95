import { afterAll, describe, expect, it } from 'vitest';
import { removeDir, startTestServer, tempDataDir, textContent } from '../../helpers/server.js';

// Issue 18: a setting changed for any store but episodic was ignored after a restart, because the saved
// evolution state was kept whenever episodic's baseline matched. Every store is compared on its own.

const dataDir = tempDataDir();
afterAll(() => removeDir(dataDir));

const semantic = (decay_exponent: number) => ({ stores: { semantic: { decay_exponent } } });

describe('evolution across a restart with a changed store setting', () => {
  it('new semantic records take the new stores.semantic.decay_exponent; unchanged stores keep what they learned', async () => {
    const first = await startTestServer({ dataDir, flags: semantic(0.15) });
    try {
      const stored = await first.call('POST', '/v1/encode', { content: textContent('the capital of Peru is Lima'), store: 'semantic' });
      expect(stored.status).toBe(200);
      // A recall is an observation: the evolution state (with its baselines) is written to disk.
      expect((await first.call('POST', '/v1/recall/query', { cue: { text: 'capital' } })).status).toBe(200);
      const before = await first.call('GET', '/v1/introspect/evolution');
      expect(before.body.current_parameters.semantic.decay_exponent).toBe(0.15);
    } finally {
      await first.close();
    }

    const second = await startTestServer({ dataDir, flags: semantic(0.5) });
    try {
      const evolution = await second.call('GET', '/v1/introspect/evolution');
      expect(evolution.body.current_parameters.semantic.decay_exponent).toBe(0.5);
      expect(evolution.body.current_parameters.episodic.decay_exponent).toBe(0.3);
      const stored = await second.call('POST', '/v1/encode', { content: textContent('the capital of Chile is Santiago'), store: 'semantic' });
      const record = await second.call('GET', `/v1/introspect/record/${stored.body.record_id}`);
      expect(record.status).toBe(200);
      expect(record.body.fidelity.decay_rate).toBe(0.5);
    } finally {
      await second.close();
    }
  });
});
