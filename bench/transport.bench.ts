import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CerememoryClient } from '../src/client/client.js';
import { loadConfig } from '../src/runtime/config/index.js';
import { startServer, type CerememoryServer } from '../src/server.js';
import { zipfQueries, zipfSentences } from './corpus.js';
import type { Bench } from './run.js';
import { percentiles, round } from './stats.js';

// Unary RecallQuery and EncodeStore over gRPC (h2c), Connect (binary, h2c) and REST (JSON, HTTP/1.1
// keep-alive) against one server holding --records memories (default 10,000), with 1 and 32 concurrent
// clients. Protocols take turns in rounds, so drift of the machine hits each the same. The clients run
// in the bench process, beside the server: on 2 cores the figures include the client's own CPU.

type Protocol = 'grpc' | 'connect' | 'rest';
type Operation = 'recall' | 'encode';

const PROTOCOLS: Protocol[] = ['grpc', 'connect', 'rest'];
const text = (value: string) => Buffer.from(value).toString('base64');

interface Caller {
  call(operation: Operation, cue: string): Promise<void>;
  close(): void;
}

function caller(protocol: Protocol, server: CerememoryServer): Caller {
  if (protocol === 'rest') {
    const post = async (path: string, body: unknown) => {
      const response = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
      await response.arrayBuffer();
    };
    return {
      call: (operation, cue) =>
        operation === 'recall'
          ? post('/v1/recall/query', { cue: { text: cue }, limit: 10, reconsolidate: false })
          : post('/v1/encode', { store: 'episodic', content: { blocks: [{ modality: 'text', format: 'text/plain', data: text(cue) }] } }),
      close: () => undefined,
    };
  }
  const client = new CerememoryClient({ baseUrl: server.url, protocol, binary: true });
  const data = (cue: string) => new TextEncoder().encode(cue);
  return {
    call: async (operation, cue) => {
      if (operation === 'recall') await client.rpc.recallQuery({ cue: { text: cue }, limit: 10, reconsolidate: false });
      else await client.rpc.encodeStore({ store: 'episodic', content: { blocks: [{ modality: 'text', format: 'text/plain', data: data(cue) }] } });
    },
    close: () => client.close(),
  };
}

/** `calls` calls from `concurrency` workers; returns each call's latency and the wall time. */
async function drive(target: Caller, operation: Operation, cues: string[], concurrency: number): Promise<{ latencies: number[]; seconds: number }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < cues.length) {
        const cue = cues[next++]!;
        const t0 = performance.now();
        await target.call(operation, cue);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return { latencies, seconds: (performance.now() - started) / 1000 };
}

const bench: Bench = {
  description: 'unary RecallQuery / EncodeStore over gRPC, Connect and REST, 1 and 32 clients (options: --records 10000 --calls 1200 --rounds 4)',
  async run(args, progress) {
    const option = (name: string, fallback: number) => Number(args[args.indexOf(name) + 1]) || fallback;
    const records = args.includes('--records') ? option('--records', 10_000) : 10_000;
    const callsPerCell = option('--calls', 1200);
    const rounds = option('--rounds', 4);
    const dataDir = mkdtempSync(join(tmpdir(), 'cerememory-bench-transport-'));
    const config = loadConfig({ env: {}, cwd: dataDir, flags: { data_dir: dataDir, http: { port: 0 }, decay: { background_enabled: false }, dream: { background_enabled: false } } });
    const server = await startServer(config, { log: () => undefined });
    const callers = Object.fromEntries(PROTOCOLS.map((protocol) => [protocol, caller(protocol, server)])) as Record<Protocol, Caller>;
    try {
      progress(`loading ${records} records`);
      const corpus = zipfSentences(records, 21);
      for (let offset = 0; offset < records; offset += 500) {
        const response = await fetch(`${server.url}/v1/encode/batch`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            records: corpus.slice(offset, offset + 500).map((sentence) => ({ content: { blocks: [{ modality: 'text', format: 'text/plain', data: text(sentence) }] } })),
          }),
        });
        if (!response.ok) throw new Error(`load: ${response.status} ${await response.text()}`);
      }
      const cells = [];
      for (const operation of ['recall', 'encode'] as Operation[]) {
        for (const concurrency of [1, 32]) {
          const perRound = Math.ceil(callsPerCell / rounds);
          const samples: Record<Protocol, { latencies: number[]; seconds: number }> = {
            grpc: { latencies: [], seconds: 0 },
            connect: { latencies: [], seconds: 0 },
            rest: { latencies: [], seconds: 0 },
          };
          const cues = operation === 'recall' ? zipfQueries(perRound * rounds * 3 + 50, 7 + concurrency) : zipfSentences(perRound * rounds * 3 + 50, 9 + concurrency);
          // warm-up: 16 calls each, then the measured rounds from cue 50 on
          for (const [index, protocol] of PROTOCOLS.entries()) await drive(callers[protocol], operation, cues.slice(index * 16, index * 16 + 16), concurrency);
          let cursor = 50;
          for (let round = 0; round < rounds; round++) {
            // rotate the order each round so no protocol always goes first
            const order = PROTOCOLS.map((_, index) => PROTOCOLS[(index + round) % PROTOCOLS.length]!);
            for (const protocol of order) {
              const { latencies, seconds } = await drive(callers[protocol], operation, cues.slice(cursor, cursor + perRound), concurrency);
              cursor += perRound;
              samples[protocol].latencies.push(...latencies);
              samples[protocol].seconds += seconds;
            }
          }
          for (const protocol of PROTOCOLS) {
            const { latencies, seconds } = samples[protocol];
            const cell = {
              operation: operation === 'recall' ? 'RecallQuery' : 'EncodeStore',
              protocol,
              concurrency,
              calls: latencies.length,
              calls_per_second: round(latencies.length / seconds, 0),
              latency_ms: percentiles(latencies, [50, 95, 99]),
            };
            cells.push(cell);
            progress(`${cell.operation} ${protocol} ×${concurrency}: ${cell.calls_per_second}/s p50 ${cell.latency_ms.p50} ms p99 ${cell.latency_ms.p99} ms`);
          }
        }
      }
      return {
        records,
        setup: 'server and clients in one process on loopback; recall limit 10, depth 2, reconsolidate false; encode one text record into episodic (fsync on)',
        protocols: { grpc: 'gRPC, binary, h2c', connect: 'Connect, binary, h2c', rest: 'REST /v1, JSON, HTTP/1.1 keep-alive (fetch)' },
        results: cells,
      };
    } finally {
      Object.values(callers).forEach((c) => c.close());
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
};

export default bench;
