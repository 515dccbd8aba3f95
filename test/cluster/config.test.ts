import { hostname } from 'node:os';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, type LoadConfigOptions } from '../../src/runtime/config/index.js';

// The `[cluster]` section (issue 16): defaults, TOML, env overrides, and errors that name the key.

const dir = mkdtempSync(join(tmpdir(), 'cerememory-cluster-config-'));
const load = (options: Omit<LoadConfigOptions, 'cwd'> = {}) => loadConfig({ env: {}, cwd: dir, ...options });
function toml(text: string): string {
  const file = join(dir, `c${Math.random().toString(36).slice(2)}.toml`);
  writeFileSync(file, text);
  return file;
}
function loadError(options: Omit<LoadConfigOptions, 'cwd'>): ConfigError {
  try {
    load(options);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('[cluster] defaults', () => {
  it('embedded, no NATS, this host as node id, 16 partitions, 3 replicas', () => {
    expect(load().cluster).toEqual({ mode: 'embedded', nats_urls: [], node_id: hostname(), partitions: 16, replicas: 3, lease_ttl_secs: 10, forward_timeout_secs: 30 });
  });
});

describe('[cluster] sources', () => {
  it('reads every key from a file', () => {
    const file = toml('[cluster]\nmode = "nats"\nnats_urls = ["nats://10.0.0.1:4222", "tls://b:4222"]\nnode_id = "a"\npartitions = 8\nreplicas = 1\nlease_ttl_secs = 4\nforward_timeout_secs = 5');
    expect(load({ file }).cluster).toEqual({ mode: 'nats', nats_urls: ['nats://10.0.0.1:4222', 'tls://b:4222'], node_id: 'a', partitions: 8, replicas: 1, lease_ttl_secs: 4, forward_timeout_secs: 5 });
  });

  it('env overrides: a comma list of URLs, numbers coerced', () => {
    const env = {
      CEREMEMORY_CLUSTER__MODE: 'nats',
      CEREMEMORY_CLUSTER__NATS_URLS: 'nats://127.0.0.1:4222, nats://127.0.0.1:4223,',
      CEREMEMORY_CLUSTER__NODE_ID: 'b',
      CEREMEMORY_CLUSTER__PARTITIONS: '32',
      CEREMEMORY_CLUSTER__REPLICAS: '5',
      CEREMEMORY_CLUSTER__LEASE_TTL_SECS: '20',
      CEREMEMORY_CLUSTER__FORWARD_TIMEOUT_SECS: '60',
    };
    expect(load({ env }).cluster).toEqual({
      mode: 'nats',
      nats_urls: ['nats://127.0.0.1:4222', 'nats://127.0.0.1:4223'],
      node_id: 'b',
      partitions: 32,
      replicas: 5,
      lease_ttl_secs: 20,
      forward_timeout_secs: 60,
    });
  });
});

describe('[cluster] errors name the key and its source', () => {
  it.each([
    ['mode nats without URLs', { CEREMEMORY_CLUSTER__MODE: 'nats' }, 'config: cluster.nats_urls (from env CEREMEMORY_CLUSTER__MODE): required when cluster.mode = "nats"'],
    ['an unknown mode', { CEREMEMORY_CLUSTER__MODE: 'raft' }, 'config: cluster.mode (from env CEREMEMORY_CLUSTER__MODE): expected one of "embedded", "nats", got "raft"'],
    [
      'a URL that is not NATS',
      { CEREMEMORY_CLUSTER__NATS_URLS: 'http://a:4222' },
      'config: cluster.nats_urls.0 (from env CEREMEMORY_CLUSTER__NATS_URLS): expected a NATS server URL like "nats://127.0.0.1:4222", got "http://a:4222"',
    ],
    ['a blank node id', { CEREMEMORY_CLUSTER__NODE_ID: ' ' }, 'config: cluster.node_id (from env CEREMEMORY_CLUSTER__NODE_ID): expected a non-blank string'],
    ['zero partitions', { CEREMEMORY_CLUSTER__PARTITIONS: '0' }, 'config: cluster.partitions (from env CEREMEMORY_CLUSTER__PARTITIONS): expected an integer in 1..1024, got 0'],
    ['six replicas', { CEREMEMORY_CLUSTER__REPLICAS: '6' }, 'config: cluster.replicas (from env CEREMEMORY_CLUSTER__REPLICAS): expected an integer in 1..5, got 6'],
    ['a one-second lease', { CEREMEMORY_CLUSTER__LEASE_TTL_SECS: '1' }, 'config: cluster.lease_ttl_secs (from env CEREMEMORY_CLUSTER__LEASE_TTL_SECS): expected an integer in 2..300, got 1'],
    [
      'a fractional forward timeout',
      { CEREMEMORY_CLUSTER__FORWARD_TIMEOUT_SECS: '1.5' },
      'config: cluster.forward_timeout_secs (from env CEREMEMORY_CLUSTER__FORWARD_TIMEOUT_SECS): expected an integer in 1..600, got 1.5',
    ],
    ['a misspelt key', { CEREMEMORY_CLUSTER__REPLICA: '3' }, 'config: cluster.replica (from env CEREMEMORY_CLUSTER__REPLICA): unknown key "replica" (did you mean CEREMEMORY_CLUSTER__REPLICAS?)'],
  ])('%s', (_case, env, message) => {
    const error = loadError({ env });
    expect(error.issues).toHaveLength(1);
    expect(error.message).toContain(message);
  });

  it('a file\'s mode = "nats" without URLs cites the file', () => {
    const file = toml('[cluster]\nmode = "nats"');
    expect(loadError({ file }).message).toBe(`config: cluster.nats_urls (from ${file}): required when cluster.mode = "nats" (at least one NATS server URL)`);
  });
});
