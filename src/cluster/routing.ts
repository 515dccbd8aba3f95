import { CmpError } from '../cmp/errors.js';
import { DEFAULT_SPACE } from '../cmp/types.js';
import type { OperationCalls } from '../transports/operations.js';
import type { ClusterNode, LocalCall } from './node.js';

// Any node answers any request (issue 16): the operations that act on one space are wrapped so that a
// node serves the spaces of the partitions it holds and forwards the others to their holder. The
// wrapper sits outside the audit wrapper (both are typed wrappers over the operations table's calls,
// src/transports/operations.ts): the node that executes an operation audits it. Operations over all
// spaces stay local for now; export (a stream of bytes) is served only by the space's owner, and import
// writes only where this node holds the partition (the ledger refuses the rest).

/** The operations forwarded by their request's `space`. */
export const ROUTED = [
  'encodeStore',
  'encodeBatch',
  'encodeUpdate',
  'encodeStoreRaw',
  'encodeBatchStoreRaw',
  'recallQuery',
  'recallAssociate',
  'recallTimeline',
  'recallGraph',
  'recallRawQuery',
  'decayTick',
  'dreamTick',
  'consolidate',
  'forget',
  'decayForecast',
  'introspectRecord',
  'stats',
] as const satisfies readonly (keyof OperationCalls)[];

/**
 * Served only by the node that owns the space: an archive made anywhere else would be that node's
 * stale or empty view of it (and one of every space, a single node's share of them). Refused elsewhere
 * with the retryable STORE_UNAVAILABLE, naming where to go; forwarding the byte stream is not done yet.
 */
export const OWNER_ONLY = ['exportArchive', 'prepareExport'] as const satisfies readonly (keyof OperationCalls)[];

const RETRY_AFTER_SECS = 1;

type RoutedName = (typeof ROUTED)[number];
type AnyCall = (request: unknown, ...rest: unknown[]) => Promise<unknown>;

const spaceOf = (request: unknown) => {
  const { space = DEFAULT_SPACE, all_spaces: allSpaces } = (request ?? {}) as { space?: string; all_spaces?: boolean };
  return { space, allSpaces: allSpaces === true };
};

/**
 * `calls` with the routed operations forwarded when this node does not hold the request's space, the
 * owner-only ones refused there, and how this node runs one for another (`local`: the owner's side of
 * a forward, `calls` as they are).
 */
export function routedCalls(calls: OperationCalls, node: ClusterNode): { calls: OperationCalls; local: LocalCall } {
  const routed: Record<keyof OperationCalls, unknown> = { ...calls };
  for (const name of ROUTED) {
    const own = calls[name] as AnyCall;
    routed[name] = function route(request: unknown) {
      const { space, allSpaces } = spaceOf(request);
      return allSpaces || node.owns(space) ? own(request) : node.forward(space, name, request);
    };
  }
  for (const name of OWNER_ONLY) {
    const own = calls[name] as AnyCall;
    routed[name] = async function ownerOnly(request: unknown, ...rest: unknown[]) {
      const { space, allSpaces } = spaceOf(request);
      if (allSpaces) {
        throw new CmpError('VALIDATION_ERROR', 'An export of every space is not available in cluster mode: export each space through the node serving it (GET /v1/cluster?space=NAME)', {
          field: 'all_spaces',
        });
      }
      if (!node.owns(space)) {
        throw new CmpError('STORE_UNAVAILABLE', `Space "${space}" is not served by node ${node.nodeId}: export it through the node serving it (GET /v1/cluster?space=${space} names it)`, {
          retryAfter: RETRY_AFTER_SECS,
        });
      }
      return own(request, ...rest);
    };
  }
  const local: LocalCall = async (method, request) => {
    if (!(ROUTED as readonly string[]).includes(method)) throw new Error(`not a routed operation: ${method}`);
    return (calls[method as RoutedName] as AnyCall)(request);
  };
  return { calls: routed as OperationCalls, local };
}
