import { join } from 'node:path';
import { StoreIndexes } from '../../../src/actors/store/indexes.js';
import { Partition } from '../../../src/actors/store/partition.js';
import { recover, saveSnapshot } from '../../../src/actors/store/recovery.js';
import { stoppingError, StoreCore, storeApiOf } from '../../../src/actors/store/store-core.js';
import { LocalEmbedder } from '../../../src/embedding/local.js';
import { runStoreConformance } from './conformance.js';

// The store conformance suite over the LevelDB backend, with the core set up as a store worker sets it
// up (deferred index work, recovery from the index snapshot at open), in process: no worker thread.

const quiet = () => undefined;

async function openLevelStore(place: string) {
  const partition = await Partition.open(join(place, 'partition'), 'episodic', { syncWrites: false });
  const indexes = new StoreIndexes('curated', new LocalEmbedder({ dimension: 64 }), { initialCapacity: 16 });
  const core = new StoreCore({ backend: partition, indexes, registry: true, deferIndexing: true, log: quiet, onUnreadable: quiet });
  const indexDir = join(place, 'indexes');
  await recover(core, partition, { indexDir, log: quiet, onUnreadable: quiet });
  let closed = false;
  return storeApiOf({
    name: 'episodic',
    ready: async () => {
      if (closed) throw stoppingError('episodic');
      return core;
    },
    compact: () => core.compact(100, Date.now() - 60_000, () => saveSnapshot(core, indexDir, quiet)),
    close: async () => {
      if (closed) return;
      closed = true;
      await core.settled();
      indexes.close();
      await saveSnapshot(core, indexDir, quiet);
      await partition.close();
    },
  });
}

runStoreConformance({ name: 'LevelDB partition', persistent: true, open: openLevelStore });
