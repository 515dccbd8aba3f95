import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

// One compiled server process of the chaos bench (bench/chaos/server.mjs) on a data directory and a
// fixed port (the same port across restarts, so clients reconnect to the restarted server). The start
// is timed from spawn to the first `/readiness` 200.

const ENTRY = join(import.meta.dirname, 'server.mjs');

export interface ChildEvent {
  event: string;
  [key: string]: unknown;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A free loopback port (bound once and released; kept for the whole round). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class ServerProcess {
  readonly url: string;
  readonly #child: ChildProcess;
  readonly #stderr: string[] = [];
  readonly #stderrHead: string[] = [];
  readonly #events: ChildEvent[] = [];
  readonly #waiters: { match: (event: ChildEvent) => boolean; resolve: (event: ChildEvent) => void }[] = [];
  readonly exited: Promise<ExitInfo>;
  #exit: ExitInfo | undefined;

  private constructor(
    readonly dataDir: string,
    readonly port: number,
  ) {
    this.url = `http://127.0.0.1:${port}`;
    this.#child = spawn(process.execPath, [ENTRY], {
      env: { ...process.env, CHAOS_DATA_DIR: dataDir, CHAOS_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exited = new Promise((resolve) => {
      this.#child.once('exit', (code, signal) => {
        this.#exit = { code, signal };
        resolve(this.#exit);
      });
    });
    createInterface({ input: this.#child.stdout! }).on('line', (line) => {
      let event: ChildEvent;
      try {
        event = JSON.parse(line) as ChildEvent;
      } catch {
        return;
      }
      this.#events.push(event);
      for (const waiter of [...this.#waiters]) {
        if (!waiter.match(event)) continue;
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        waiter.resolve(event);
      }
    });
    createInterface({ input: this.#child.stderr! }).on('line', (line) => {
      this.#stderr.push(line);
      if (this.#stderrHead.length < 30) this.#stderrHead.push(line);
      if (this.#stderr.length > 200) this.#stderr.shift();
    });
  }

  /** Spawns the server and waits for `/readiness` 200; `ready_ms` is spawn → first 200. */
  static async start(dataDir: string, port: number, timeoutMs = 60_000): Promise<{ server: ServerProcess; ready_ms: number }> {
    const started = performance.now();
    const server = new ServerProcess(dataDir, port);
    try {
      await server.waitReady(timeoutMs);
    } catch (error) {
      if (server.#exit === undefined) await server.kill9();
      throw error;
    }
    return { server, ready_ms: performance.now() - started };
  }

  get pid(): number {
    return this.#child.pid!;
  }

  get alive(): boolean {
    return this.#exit === undefined;
  }

  /** The last lines the server wrote to stderr (its log). */
  stderrTail(lines = 20): string[] {
    return this.#stderr.slice(-lines);
  }

  /** The first lines the server wrote to stderr (its start-up log). */
  stderrHead(lines = 20): string[] {
    return this.#stderrHead.slice(0, lines);
  }

  events(): readonly ChildEvent[] {
    return this.#events;
  }

  /** Polls `/readiness` until it answers 200. */
  async waitReady(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.#exit !== undefined) {
        throw new Error(`server exited (${JSON.stringify(this.#exit)}) before it was ready: ${this.stderrTail(8).join(' | ')}`);
      }
      try {
        const response = await fetch(`${this.url}/readiness`, { signal: AbortSignal.timeout(2000) });
        const text = await response.text();
        if (response.status === 200) return;
        this.#noteReadiness(text);
      } catch {
        // not listening yet
      }
      await sleep(20);
    }
    throw new Error(`server not ready after ${timeoutMs} ms: ${this.stderrTail(8).join(' | ')}`);
  }

  /** While not ready: each change of the stores' states, with ms since the spawn (why a start is slow). */
  readonly readinessLog: { at_ms: number; not_ready: string[] }[] = [];
  readonly #spawnedAt = performance.now();

  #noteReadiness(text: string): void {
    let stores: { name?: string; store?: string; state?: string }[] = [];
    try {
      stores = (JSON.parse(text) as { stores?: typeof stores }).stores ?? [];
    } catch {
      return;
    }
    const notReady = stores.filter((s) => s.state !== 'ready').map((s) => `${s.name ?? s.store ?? '?'}:${s.state}`);
    const last = this.readinessLog.at(-1);
    if (last && last.not_ready.join() === notReady.join()) return;
    if (this.readinessLog.length < 40) this.readinessLog.push({ at_ms: Math.round(performance.now() - this.#spawnedAt), not_ready: notReady });
  }

  /** The next child event matching `match` (also one already received after `since`). */
  nextEvent(match: (event: ChildEvent) => boolean, timeoutMs: number): Promise<ChildEvent> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching server event within ${timeoutMs} ms`)), timeoutMs);
      this.#waiters.push({
        match,
        resolve: (event) => {
          clearTimeout(timer);
          resolve(event);
        },
      });
    });
  }

  /** kill -9: the process ends at once, whatever is in flight. */
  async kill9(): Promise<ExitInfo> {
    if (this.#exit === undefined) this.#child.kill('SIGKILL');
    return this.exited;
  }

  /**
   * Ends the next store worker (round-robin) through the child's SIGUSR2 hook; resolves when the
   * worker has exited, with the store's name. Readiness is not awaited here.
   */
  async killWorker(timeoutMs = 30_000): Promise<string> {
    const event = this.nextEvent((e) => e.event === 'worker-killed' || e.event === 'worker-kill-failed', timeoutMs);
    this.#child.kill('SIGUSR2');
    const result = await event;
    if (result.event !== 'worker-killed') throw new Error(`worker kill failed: ${JSON.stringify(result)}`);
    return result.store as string;
  }

  /** SIGTERM, as a service manager stops it; after `timeoutMs` SIGKILL. `clean`: exit code 0 in time. */
  async terminate(timeoutMs = 20_000): Promise<{ clean: boolean; exit: ExitInfo; ms: number; timed_out: boolean; close_event?: ChildEvent }> {
    const started = performance.now();
    if (this.#exit === undefined) this.#child.kill('SIGTERM');
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.#child.kill('SIGKILL');
    }, timeoutMs);
    const exit = await this.exited;
    clearTimeout(timer);
    const closeEvent = this.#events.find((e) => e.event === 'closed' || e.event === 'close-failed');
    return { clean: !timedOut && exit.code === 0, exit, ms: performance.now() - started, timed_out: timedOut, ...(closeEvent ? { close_event: closeEvent } : {}) };
  }
}
