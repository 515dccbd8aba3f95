import { DEFAULT_SPACE } from '../cmp/types.js';
import type { OperationCalls } from '../transports/operations.js';
import type { ClusterNode, LocalCall } from './node.js';

// Any node answers any request (issue 16): the operations that act on one space are wrapped so that a
// node serves the spaces of the partitions it holds and forwards the others to their holder. The
// wrapper sits outside the audit wrapper (both are typed wrappers over the operations table's calls,
// src/transports/operations.ts): the node that executes an operation audits it. Export and import
// (streams of bytes) and operations over all spaces stay local for now.

/** The operations forwarded by their request's `space`. */
export const ROUTED = [
  'encodeStore', 'encodeBatch', 'encodeUpdate', 'encodeStoreRaw', 'encodeBatchStoreRaw',
  'recallQuery', 'recallAssociate', 'recallTimeline', 'recallGraph', 'recallRawQuery',
  'decayTick', 'dreamTick', 'consolidate', 'forget', 'decayForecast', 'introspectRecord', 'stats',
] as const satisfies readonly (keyof OperationCalls)[];

type RoutedName = (typeof ROUTED)[number];
type AnyCall = (request: unknown) => Promise<unknown>;

/**
 * `calls` with the routed operations forwarded when this node does not hold the request's space, and
 * how this node runs one for another (`local`: the owner's side of a forward, `calls` as they are).
 */
export function routedCalls(calls: OperationCalls, node: ClusterNode): { calls: OperationCalls; local: LocalCall } {
  const routed: Record<keyof OperationCalls, unknown> = { ...calls };
  for (const name of ROUTED) {
    const own = calls[name] as AnyCall;
    routed[name] = function route(request: unknown) {
      const { space = DEFAULT_SPACE, all_spaces: allSpaces } = (request ?? {}) as { space?: string; all_spaces?: boolean };
      return allSpaces === true || node.owns(space) ? own(request) : node.forward(space, name, request);
    };
  }
  const local: LocalCall = async (method, request) => {
    if (!(ROUTED as readonly string[]).includes(method)) throw new Error(`not a routed operation: ${method}`);
    return (calls[method as RoutedName] as AnyCall)(request);
  };
  return { calls: routed as OperationCalls, local };
}
