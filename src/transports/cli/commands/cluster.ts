import { InvalidArgumentError, type Command } from 'commander';
import type { ClusterStatus } from '../../../cluster/node.js';
import type { CliContext } from '../context.js';
import { fail } from '../fail.js';
import { runningServerUrl } from './server.js';

// `cerememory cluster status` (issue 16): what a running node of a cluster says at GET /v1/cluster,
// the whole cluster or, with --space, where one space lives. A cluster is a set of running servers, so
// the command always asks one (never opens the data directory itself).

interface SpacePlace {
  space: string;
  partition: number;
  node_id: string | undefined;
  owner: string | undefined;
  standby: string | undefined;
}

export function clusterCommand(program: Command, { globals }: CliContext): void {
  const cluster = program.command('cluster').description('A cluster of Cerememory nodes on NATS JetStream (cluster.mode = "nats").');
  cluster
    .command('status')
    .description(
      "Print the nodes of the cluster and each partition's holder, placement owner and standby, log sequence and lag (with --space: that space's partition and the node serving it), as a running node sees them: --server-url, else the server that owns the data directory.",
    )
    .action(async () => {
      const global = globals();
      const url = (await runningServerUrl(global)).replace(/\/+$/, '');
      const query = global.space === undefined ? '' : `?space=${encodeURIComponent(global.space)}`;
      let response: Response;
      try {
        response = await fetch(`${url}/v1/cluster${query}`, {
          headers: global.apiKey === undefined ? {} : { authorization: `Bearer ${global.apiKey}` },
          signal: AbortSignal.timeout(10_000),
        });
      } catch (error) {
        fail(new InvalidArgumentError(`${url}: unreachable (${(error as Error).message})`));
      }
      const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
      // An embedded server has no such route (it answers an unknown route with VALIDATION_ERROR "No route for …").
      if (response.status === 404 || (response.status === 400 && String(body.message).startsWith('No route for'))) {
        fail(new InvalidArgumentError(`${url} is not in cluster mode (cluster.mode = "embedded")`));
      }
      if (!response.ok) fail(new InvalidArgumentError(`${url}: ${response.status} ${JSON.stringify(body)}`));
      if (global.json) console.log(JSON.stringify(body, null, 2));
      else console.log((global.space === undefined ? statusLines(body as unknown as ClusterStatus) : spaceLines(body as unknown as SpacePlace)).join('\n'));
    });
}

/** The whole cluster: the node asked, the members, then one row per partition (its lag only where the node asked serves it). */
export function statusLines(status: ClusterStatus): string[] {
  const rows = [
    ['partition', 'holder', 'owner', 'standby', 'log', 'lag'],
    ...status.partitions.map(({ partition, holder, owner, standby, log_sequence: log, lag }) => [
      String(partition),
      holder ?? '-',
      owner ?? '-',
      standby ?? '-',
      String(log),
      lag === null ? '-' : String(lag),
    ]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const unsettled = status.partitions.filter(({ holder, owner }) => holder !== owner).length;
  return [
    `node ${status.node_id}; ${status.nodes.length} node${status.nodes.length === 1 ? '' : 's'}: ${status.nodes.join(', ')}`,
    `${status.partitions.length} partitions${unsettled === 0 ? ', each held by its owner' : `, ${unsettled} not held by their owner yet (moving)`}`,
    ...rows.map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join('  ')
        .trimEnd(),
    ),
  ];
}

/** One space: its partition and who serves it. */
export function spaceLines(place: SpacePlace): string[] {
  return [`space ${place.space}: partition ${place.partition}, served by ${place.node_id ?? 'nobody now (moving; retry)'}`, `placement: owner ${place.owner ?? '-'}, standby ${place.standby ?? '-'}`];
}
