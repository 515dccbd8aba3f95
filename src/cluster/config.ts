import { hostname } from 'node:os';
import { z } from 'zod';

// The `[cluster]` section (issue 16, DESIGN §4): its schema, defaults and cross-field rule, kept here
// so src/runtime/config/ only hooks the section in. Messages follow its ("expected …", and the rule's
// sentence names the key that made another required). Embedded mode reads none of it but `mode`.

const MODES = ['embedded', 'nats'] as const;
const NATS_URL_PROTOCOLS = ['nats:', 'tls:', 'ws:', 'wss:'];
const NATS_URL = 'expected a NATS server URL like "nats://127.0.0.1:4222"';

function int(lo: number, hi: number) {
  const expected = `expected an integer in ${lo}..${hi}`;
  return z.number({ error: expected }).refine((n) => Number.isInteger(n) && n >= lo && n <= hi, { error: expected });
}

function isNatsUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return NATS_URL_PROTOCOLS.includes(url.protocol) && url.hostname !== '';
  } catch {
    return false;
  }
}

export const clusterSchema = z.strictObject(
  {
    /**
     * "embedded" (one process, LevelDB per store, no network) or "nats" (spaces spread over nodes on
     * NATS JetStream: a replicated log per partition, KV leases). Default "embedded".
     */
    mode: z.enum(MODES, { error: `expected one of ${MODES.map((m) => JSON.stringify(m)).join(', ')}` }),
    /**
     * The NATS servers to connect to, e.g. ["nats://10.0.0.1:4222", "nats://10.0.0.2:4222"]; the client
     * finds the rest of the NATS cluster from them. Default []; required when mode = "nats".
     * Env: `CEREMEMORY_CLUSTER__NATS_URLS=nats://a:4222,nats://b:4222`.
     */
    nats_urls: z.array(z.string({ error: NATS_URL }).refine(isNatsUrl, { error: NATS_URL }), { error: 'expected a list' }),
    /**
     * This node's name in the cluster: the value of the leases it holds. Unique per node and stable
     * across its restarts. Default the host name.
     */
    node_id: z.string({ error: 'expected a non-blank string' }).refine((s) => s.trim() !== '', { error: 'expected a non-blank string' }),
    /**
     * Partitions the spaces hash into (the unit of placement: one replicated stream and one lease each).
     * Fixed when the cluster is created: every node must use the same. Count, default 16, range 1..1024.
     */
    partitions: int(1, 1024),
    /** Copies NATS keeps of each partition's log; 1 only for a single NATS server. Count, default 3, range 1..5. */
    replicas: int(1, 5),
    /**
     * How long a partition's lease (and a node's membership) lasts unless renewed: a dead owner's
     * partitions move after about this long. Nodes renew and re-check every fifth of it. The same on
     * every node. Seconds, default 10, range 2..300.
     */
    lease_ttl_secs: int(2, 300),
    /**
     * How long a request forwarded to a space's owner may take before it fails (a failover answers the
     * retryable 503 sooner, as soon as the owner's lease expires or moves). Seconds, default 30, range 1..600.
     */
    forward_timeout_secs: int(1, 600),
  },
  { error: 'expected a table' },
);

export type ClusterConfig = z.infer<typeof clusterSchema>;

export const defaultClusterConfig: ClusterConfig = {
  mode: 'embedded',
  nats_urls: [],
  node_id: hostname(),
  partitions: 16,
  replicas: 3,
  lease_ttl_secs: 10,
  forward_timeout_secs: 30,
};

/** An issue in the shape of src/runtime/config/issues.ts: the key path, its sentence, and whose source to cite. */
export interface ClusterIssue {
  path: string[];
  message: string;
  sourcePath?: string[];
}

/** The rules across keys; `section` is the merged input, read defensively (other keys may be invalid). */
export function clusterIssues(section: Record<string, unknown>): ClusterIssue[] {
  const issues: ClusterIssue[] = [];
  if (section.mode === 'nats' && Array.isArray(section.nats_urls) && section.nats_urls.length === 0) {
    issues.push({ path: ['cluster', 'nats_urls'], message: 'required when cluster.mode = "nats" (at least one NATS server URL)', sourcePath: ['cluster', 'mode'] });
  }
  return issues;
}
