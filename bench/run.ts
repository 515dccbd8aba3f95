import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';

// `npm run bench -- <name>`: runs bench/<name>.bench.ts and writes bench/results/<name>.json with the
// machine, Node version, date and commit, so figures from different machines are never mixed up.
// Benchmarks measure; they never assert.

export interface BenchReport {
  [key: string]: unknown;
}

export interface Bench {
  description: string;
  run(args: string[], progress: (line: string) => void): Promise<BenchReport>;
  /** The results file's name without `.json`, when it depends on the options (default: the bench's name). */
  resultName?(args: string[]): string;
}

const BENCHES = ['encode', 'recall', 'retrieval', 'dynamics', 'transport', 'archive', 'peers', 'connect-bytes', 'chaos', 'cluster'] as const;

function machine() {
  let commit = 'unknown';
  try {
    commit = execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    // not a git checkout
  }
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memory_gib: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    commit,
    date: new Date().toISOString(),
    // 1, 5 and 15 minute load averages when the bench started: other work on the machine inflates
    // absolute figures (A/B comparisons within one run alternate, so they stay fair).
    load_average: loadavg().map((load) => Math.round(load * 100) / 100),
  };
}

async function main(): Promise<void> {
  const [name, ...args] = process.argv.slice(2);
  if (!name || name === '--help' || !(BENCHES as readonly string[]).includes(name)) {
    console.error(`usage: npm run bench -- <name> [options]\nbenchmarks: ${BENCHES.join(', ')}`);
    process.exit(name ? 1 : 0);
  }
  const bench = ((await import(`./${name}.bench.js`)) as { default: Bench }).default;
  console.error(`bench ${name}: ${bench.description}`);
  const host = machine();
  const report = await bench.run(args, (line) => console.error(`  ${line}`));
  const result = { name, machine: host, ...report };
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${bench.resultName?.(args) ?? name}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  console.error(`wrote ${file}`);
  console.log(JSON.stringify(result, null, 2));
}

await main();
