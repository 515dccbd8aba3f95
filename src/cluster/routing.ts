import type { Hippocampus } from '../actors/hippocampus/coordinator.js';
import { CmpError } from '../cmp/errors.js';
import { DEFAULT_SPACE } from '../cmp/types.js';
import type { ClusterNode, LocalCall } from './node.js';

// Any node answers any request (issue 16): the hippocampus operations that act on one space are
// wrapped so that a node serves the spaces of the partitions it holds and forwards the others to their
// holder. The wrapper sits outside the audit wrapper: the node that executes an operation audits it.
// Operations over all spaces stay local for now; export (a stream of bytes) is served only by the
// space's owner, and import writes only where this node holds the partition (the ledger refuses the rest).

/** The operations forwarded by their request's `space`. */
export const ROUTED = [
  'encodeStore', 'encodeBatch', 'encodeUpdate', 'encodeStoreRaw', 'encodeBatchRaw',
  'recallQuery', 'recallAssociate', 'recallTimeline', 'recallGraph', 'recallRaw',
  'decayTick', 'dreamTick', 'consolidate', 'forget', 'decayForecast', 'introspectRecord', 'stats',
] as const;

/**
 * Served only by the node that owns the space: an archive made anywhere else would be that node's
 * stale or empty view of it (and one of every space, a single node's share of them). Refused elsewhere
 * with the retryable STORE_UNAVAILABLE, naming where to go; forwarding the byte stream is not done yet.
 */
export const OWNER_ONLY = ['exportArchive', 'prepareExport'] as const;

const RETRY_AFTER_SECS = 1;

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
  for (const name of OWNER_ONLY) {
    const original = target[name]!.bind(hippocampus) as (...args: unknown[]) => Promise<unknown>;
    (target as Record<string, unknown>)[name] = async function ownerOnly(request: unknown, ...rest: unknown[]) {
      const { space = DEFAULT_SPACE, all_spaces: allSpaces } = (request ?? {}) as { space?: string; all_spaces?: boolean };
      if (allSpaces === true) {
        throw new CmpError('VALIDATION_ERROR', 'An export of every space is not available in cluster mode: export each space through the node serving it (GET /v1/cluster?space=NAME)', { field: 'all_spaces' });
      }
      if (!node.owns(space)) {
        throw new CmpError('STORE_UNAVAILABLE', `Space "${space}" is not served by node ${node.nodeId}: export it through the node serving it (GET /v1/cluster?space=${space} names it)`, { retryAfter: RETRY_AFTER_SECS });
      }
      return original(request, ...rest);
    };
  }
  return async (method, request) => {
    const run = local.get(method);
    if (run === undefined) throw new Error(`not a routed operation: ${method}`);
    return run(request);
  };
}
