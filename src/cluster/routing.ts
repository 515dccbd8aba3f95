import type { Hippocampus } from '../actors/hippocampus/coordinator.js';
import { DEFAULT_SPACE } from '../cmp/types.js';
import type { ClusterNode, LocalCall } from './node.js';

// Any node answers any request (issue 16): the hippocampus operations that act on one space are
// wrapped so that a node serves the spaces of the partitions it holds and forwards the others to their
// holder. The wrapper sits outside the audit wrapper: the node that executes an operation audits it.
// Export and import (streams of bytes) and operations over all spaces stay local for now.

/** The operations forwarded by their request's `space`. */
export const ROUTED = [
  'encodeStore', 'encodeBatch', 'encodeUpdate', 'encodeStoreRaw', 'encodeBatchRaw',
  'recallQuery', 'recallAssociate', 'recallTimeline', 'recallGraph', 'recallRaw',
  'decayTick', 'dreamTick', 'consolidate', 'forget', 'decayForecast', 'introspectRecord', 'stats',
] as const;

/** Wraps the routed operations of `hippocampus`; returns how to run one locally (what the owner serves). */
export function routeHippocampus(hippocampus: Hippocampus, node: ClusterNode): LocalCall {
  const target = hippocampus as unknown as Record<string, (request: unknown) => Promise<unknown>>;
  const local = new Map<string, (request: unknown) => Promise<unknown>>();
  for (const name of ROUTED) {
    const original = target[name]!.bind(hippocampus);
    local.set(name, original);
    target[name] = function routed(request: unknown) {
      const { space = DEFAULT_SPACE, all_spaces: allSpaces } = (request ?? {}) as { space?: string; all_spaces?: boolean };
      return allSpaces === true || node.owns(space) ? original(request) : node.forward(space, name, request);
    };
  }
  return async (method, request) => {
    const run = local.get(method);
    if (run === undefined) throw new Error(`not a routed operation: ${method}`);
    return run(request);
  };
}
