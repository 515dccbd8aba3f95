import { CmpError } from '../../cmp/errors.js';
import { fromTimestamp, toTimestamp } from '../../cmp/ids.js';
import type { ForgetRequest, ForgetResponse } from '../../cmp/operations.js';
import { STORE_TYPES, type StoreType } from '../../cmp/types.js';
import type { Stores } from '../store/protocol.js';
import type { AssociationGraph } from './association-graph.js';
import { groupBy } from './group-by.js';
import type { Ledger } from './ledger.js';

// lifecycle.forget (spec §3.15): which records go (by id, with their outgoing links' targets on
// `cascade`, a whole store, a creation-time range), one deletion event per store, then the links
// left pointing at them are stripped. A retry with the same idempotency key deletes nothing again and
// answers the first attempt's count.

export interface ForgetContext {
  stores: Stores;
  graph: AssociationGraph;
  ledger: Ledger;
  now: () => number;
}

export async function forget({ stores, graph, ledger, now }: ForgetContext, request: ForgetRequest): Promise<ForgetResponse> {
  if (request.confirm !== true) {
    throw new CmpError('FORGET_UNCONFIRMED', "Forget requires explicit confirmation. Set 'confirm: true' to proceed.", { field: 'confirm' });
  }
  const { space } = request;
  const targets = new Map<string, StoreType>();
  const add = (id: string, store: StoreType | undefined) => {
    if (store) targets.set(id, store);
  };
  for (const id of request.record_ids) {
    const store = graph.storeOf(space, id);
    add(id, store);
    if (store && request.cascade) for (const edge of graph.outgoing(space, id)) add(edge.target_id, graph.storeOf(space, edge.target_id));
  }
  if (request.store) for (const id of graph.idsIn(space, request.store)) add(id, request.store);
  if (request.temporal_range) {
    const start = fromTimestamp(request.temporal_range.start);
    const end = fromTimestamp(request.temporal_range.end);
    await Promise.all(
      STORE_TYPES.map(async (store) => {
        for (const id of await stores[store].idsCreatedBetween(space, start, end)) add(id, store);
      }),
    );
  }
  const replayed = await ledger.firstAttempt(space, request.idempotency_key, new Set(targets.values()));
  const at = toTimestamp(now());
  let deleted = 0;
  const removed: string[] = [];
  await Promise.all(
    [...groupBy([...targets], ([, store]) => store)].map(async ([store, entries]) => {
      const earlier = replayed.get(store);
      if (earlier) {
        deleted += earlier.removed.length;
        return;
      }
      const ids = entries.map(([id]) => id);
      const reply = await ledger.apply(space, store, { type: 'records.deleted', ids }, { at, idempotencyKey: request.idempotency_key });
      deleted += reply.removed.length;
      removed.push(...reply.removed);
    }),
  );
  if (removed.length > 0) await ledger.cleanUpAfterRemoval(space, removed, at);
  return { records_deleted: deleted };
}
