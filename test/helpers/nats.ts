import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';

// Real `nats-server` processes for the cluster tests (issue 16): N servers on random loopback ports,
// each with its own store_dir, routed to each other when N > 1, stopped or killed one by one (so a test
// can SIGKILL one and restart it on the same ports and store). Debian's nats-server 2.9.10 is the one
// CI installs (.ci/run); without it the cluster tests skip with a message, except on CI, where they fail.

export const NATS_SERVER = 'nats-server';

/** Whether `nats-server` runs here; the cluster suites skip (with a message) where it does not. */
export const natsServerAvailable: boolean = (() => {
  const probe = spawnSync(NATS_SERVER, ['--version'], { encoding: 'utf8' });
  const ok = probe.status === 0;
  if (!ok && process.env.CI === 'true') throw new Error('nats-server is not on PATH: .ci/run installs it (apt-get install nats-server)');
  if (!ok) console.warn('cluster tests skipped: nats-server is not on PATH (apt-get install -y nats-server)');
  return ok;
})();

export interface NatsServerProcess {
  readonly name: string;
  /** `nats://127.0.0.1:<port>`: the client URL, the same across restarts. */
  readonly url: string;
  readonly storeDir: string;
  /** Everything the server printed, for a failing test's message. */
  readonly logs: string[];
  /** Whether its process is running. */
  running(): boolean;
  /** Sends `signal` and resolves once the process exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again with the same config, ports and store (after a kill). */
  restart(): Promise<void>;
}

export interface NatsCluster {
  readonly servers: NatsServerProcess[];
  /** Every client URL, the first server's first. */
  readonly urls: string[];
  /** Waits until JetStream answers on every running server (its meta leader elected). */
  ready(deadlineMs?: number): Promise<void>;
  /** Kills every server (SIGKILL: nothing to flush in a test) and removes their store dirs. */
  stop(): Promise<void>;
}

/** A free loopback port, chosen by the OS. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The config file of one server: JetStream on, a cluster block with routes to the others when N > 1. */
export function natsServerConfig(options: { name: string; port: number; storeDir: string; clusterPort?: number; routes?: number[] }): string {
  const lines = [
    `server_name: ${options.name}`,
    `listen: 127.0.0.1:${options.port}`,
    // The tests run several clusters' worth of servers on two cores: keep each one small.
    `jetstream { store_dir: "${options.storeDir}", max_memory_store: 64MB, max_file_store: 512MB }`,
  ];
  if (options.clusterPort !== undefined) {
    const routes = (options.routes ?? []).map((port) => `nats-route://127.0.0.1:${port}`).join(', ');
    // no_advertise: the routes stay the ones written here, not addresses gossiped by the others.
    lines.push(`cluster { name: cmr-test, listen: 127.0.0.1:${options.clusterPort}, routes: [${routes}], no_advertise: true }`);
  }
  return `${lines.join('\n')}\n`;
}

/** Starts `count` servers (default 3) and waits until JetStream is ready on all of them. */
export async function startNatsCluster(count = 3, options: { readyDeadlineMs?: number } = {}): Promise<NatsCluster> {
  const root = mkdtempSync(join(tmpdir(), 'cerememory-nats-'));
  const ports = await Promise.all(Array.from({ length: count }, () => freePort()));
  const clusterPorts = count > 1 ? await Promise.all(Array.from({ length: count }, () => freePort())) : [];
  const servers = ports.map((port, i) => {
    const name = `n${i + 1}`;
    const storeDir = join(root, name);
    const configFile = join(root, `${name}.conf`);
    const clustered = count > 1 ? { clusterPort: clusterPorts[i], routes: clusterPorts.filter((_, j) => j !== i) } : {};
    writeFileSync(configFile, natsServerConfig({ name, port, storeDir, ...clustered }));
    return serverProcess(name, port, storeDir, configFile);
  });
  const cluster: NatsCluster = {
    servers,
    urls: servers.map((server) => server.url),
    ready: (deadlineMs = options.readyDeadlineMs ?? 60_000) => Promise.all(servers.filter((s) => s.running()).map((s) => jetStreamReady(s, deadlineMs))).then(() => undefined),
    async stop() {
      await Promise.all(servers.map((server) => server.kill('SIGKILL')));
      rmSync(root, { recursive: true, force: true });
    },
  };
  try {
    await Promise.all(servers.map((server) => server.restart()));
    await cluster.ready();
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}

function serverProcess(name: string, port: number, storeDir: string, configFile: string): NatsServerProcess {
  const logs: string[] = [];
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  return {
    name,
    url: `nats://127.0.0.1:${port}`,
    storeDir,
    logs,
    running: () => child !== undefined && child.exitCode === null && child.signalCode === null,
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited;
    },
    async restart() {
      if (this.running()) throw new Error(`nats server ${name} is still running`);
      const started = spawn(NATS_SERVER, ['-c', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
      child = started;
      for (const stream of [started.stdout, started.stderr]) stream?.on('data', (chunk: Buffer) => logs.push(...chunk.toString().trimEnd().split('\n')));
      exited = new Promise((resolve) => started.once('exit', () => resolve()));
      await new Promise<void>((resolve, reject) => {
        started.once('spawn', resolve);
        started.once('error', reject);
      });
    },
  };
}

/** Polls `$JS.API.INFO` through this server until it answers; the deadline is only a safety net. */
async function jetStreamReady(server: NatsServerProcess, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  let last: unknown;
  while (Date.now() < deadline) {
    if (!server.running()) throw new Error(`nats server ${server.name} exited:\n${server.logs.slice(-20).join('\n')}`);
    let nc: NatsConnection | undefined;
    try {
      nc = await connect({ servers: server.url, timeout: 1000, reconnect: false });
      const jsm = await jetstreamManager(nc, { timeout: 1000 });
      await jsm.getAccountInfo();
      return;
    } catch (error) {
      last = error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      await nc?.close().catch(() => undefined);
    }
  }
  throw new Error(`nats server ${server.name}: JetStream not ready within ${deadlineMs} ms (${String(last)}):\n${server.logs.slice(-20).join('\n')}`);
}
