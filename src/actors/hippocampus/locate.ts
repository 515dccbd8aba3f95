import { CmpError } from '../../cmp/errors.js';
import { PERSISTENT_STORES, type StoreType } from '../../cmp/types.js';
import type { Stores } from '../store/protocol.js';
import type { AssociationGraph } from './association-graph.js';

// Finding the store a record lives in, and the one error for a record that is nowhere.

/** Where a record lives: the graph knows; if it does not (it is derived data), ask the stores. */
export async function locate(stores: Stores, graph: AssociationGraph, space: string, id: string): Promise<StoreType> {
  const known = graph.storeOf(space, id);
  if (known) return known;
  for (const store of ['working', ...PERSISTENT_STORES] as const) {
    if (await stores[store].get(space, id)) return store;
  }
  throw notFound(id);
}

export function notFound(id: string): CmpError {
  return new CmpError('RECORD_NOT_FOUND', `Record not found: ${id}`, { field: 'record_id' });
}
