// The chaos bench's server process: the compiled server (dist/, as `npm start` runs it) on the data
// directory and port given in CHAOS_DATA_DIR / CHAOS_PORT, with the default configuration. Reports on
// stdout, one JSON line per event, for bench/chaos/process.ts:
//   {"event":"listening","url":…}                  the server answers (readiness is polled separately)
//   {"event":"worker-killed","store":…}            after SIGUSR2: a store worker ended as a crash would
//   {"event":"closed"} / {"event":"close-failed"}  after SIGTERM, before the exit (0, else 1)
// The fault hook for worker kills lives here only: on SIGUSR2 the next store worker in round-robin order
// is killed through SupervisedStore.kill(); supervision restarts it. Nothing in src/ knows about it.
import { loadConfig } from '../../dist/runtime/config/index.js';
import { startServer } from '../../dist/server.js';

const send = (event) => process.stdout.write(`${JSON.stringify(event)}\n`);
const dataDir = process.env.CHAOS_DATA_DIR;
const port = Number(process.env.CHAOS_PORT);

let server;
try {
  const config = loadConfig({ env: {}, cwd: dataDir, flags: { data_dir: dataDir, http: { port } } });
  server = await startServer(config, { log: (line) => process.stderr.write(`${line}\n`) });
} catch (error) {
  process.stderr.write(`start failed: ${error?.stack ?? error}\n`);
  send({ event: 'start-failed', message: String(error?.message ?? error), code: error?.code });
  process.exit(2);
}
send({ event: 'listening', url: server.url });

const order = ['episodic', 'semantic', 'procedural', 'emotional', 'raw_journal'];
let next = 0;
process.on('SIGUSR2', () => {
  const store = order[next++ % order.length];
  const worker = server.runtime.workers.get(store);
  if (!worker) return send({ event: 'worker-kill-failed', store, message: 'no such worker' });
  worker.kill().then(
    () => send({ event: 'worker-killed', store }),
    (error) => send({ event: 'worker-kill-failed', store, message: String(error?.message ?? error) }),
  );
});

let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  server.close().then(
    () => {
      send({ event: 'closed' });
      process.exit(0);
    },
    (error) => {
      process.stderr.write(`close failed: ${error?.stack ?? error}\n`);
      send({ event: 'close-failed', message: String(error?.message ?? error), code: error?.code });
      process.exit(1);
    },
  );
});
