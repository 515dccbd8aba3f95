import { createHash } from 'node:crypto';

// Where a space lives in a cluster (issue 16, scale-out.md §6.1-6.2), as pure functions: a space
// hashes into one of a fixed number of partitions; each partition ranks the nodes by rendezvous
// (highest-random-weight) hashing, the first is its owner and the second its warm standby. Rendezvous
// hashing moves only the partitions of a node that leaves, and gives a node that joins about 1/n of
// them, each taken from whoever held it. Every hash here is part of the cluster's on-disk contract:
// changing one would move every space, so the tests pin their values.

/** 32-bit FNV-1a of the UTF-8 bytes: stable across processes, versions and platforms. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** The partition of a space, in 0..partitions-1. */
export function partitionOf(space: string, partitions: number): number {
  if (!Number.isInteger(partitions) || partitions < 1) throw new RangeError(`partitions must be an integer >= 1, got ${partitions}`);
  return fnv1a(space) % partitions;
}

/**
 * A space's name as one subject token: space names may hold `.`, which NATS reads as a token separator,
 * so the subject carries a fixed-length hash (128 bits, hex) and the name travels in the payload.
 */
export function spaceToken(space: string): string {
  return createHash('sha256').update(space, 'utf8').digest('hex').slice(0, 32);
}

/**
 * The weight of `node` for `partition`: 48 bits of a SHA-256, well mixed even for node ids that differ
 * in one character (FNV's low bits are not).
 */
export function rendezvousWeight(partition: number, node: string): number {
  return createHash('sha256').update(`${partition}/${node}`, 'utf8').digest().readUIntBE(0, 6);
}

/** The nodes in the order a partition prefers them (duplicates dropped; ties broken by id). */
export function rankNodes(partition: number, nodes: Iterable<string>): string[] {
  return [...new Set(nodes)]
    .map((node) => ({ node, weight: rendezvousWeight(partition, node) }))
    .sort((a, b) => b.weight - a.weight || (a.node < b.node ? -1 : a.node > b.node ? 1 : 0))
    .map(({ node }) => node);
}

export interface PartitionPlacement {
  partition: number;
  /** The node that should hold the partition's lease; undefined when there is no node. */
  owner: string | undefined;
  /** The node that takes over when the owner goes; undefined with fewer than two nodes. */
  standby: string | undefined;
}

/** Owner and standby of one partition among `nodes`. */
export function placePartition(partition: number, nodes: Iterable<string>): PartitionPlacement {
  const [owner, standby] = rankNodes(partition, nodes);
  return { partition, owner, standby };
}

/** Owner and standby of every partition, in partition order. */
export function placeAll(partitions: number, nodes: Iterable<string>): PartitionPlacement[] {
  const members = [...nodes];
  return Array.from({ length: partitions }, (_, partition) => placePartition(partition, members));
}
