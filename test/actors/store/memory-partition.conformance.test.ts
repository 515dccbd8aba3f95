import { createWorkingStore } from '../../../src/actors/working/working-store.js';
import { LocalEmbedder } from '../../../src/embedding/local.js';
import { runStoreConformance } from './conformance.js';

// The store conformance suite over the memory backend, as working memory runs it (its capacity set high
// enough that no case evicts: eviction is working memory's own, test/actors/working/).

runStoreConformance({
  name: 'memory partition (working memory)',
  persistent: false,
  open: async () => createWorkingStore({ capacity: 1000, idempotencyTtlMs: 60_000, embedder: new LocalEmbedder({ dimension: 64 }) }),
});
