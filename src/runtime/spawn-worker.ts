import { Worker, type WorkerOptions } from 'node:worker_threads';

// Node 20 does not pass tsx's loader hooks to worker threads (stack notes §8), so a worker started
// from TypeScript source registers tsx itself before importing its entry. Compiled code (dist/) takes
// the plain path.
export function spawnWorker(name: string, base: string, options: WorkerOptions = {}): Worker {
  if (!/\.[mc]?ts$/.test(base)) return new Worker(new URL(`${name}.js`, base), options);
  const entry = new URL(`${name}.ts`, base).href;
  // Resolved here, not in the worker: eval'd code resolves bare names from the cwd, which need not be
  // the project when the command runs elsewhere.
  const tsxApi = typeof import.meta.resolve === 'function' ? import.meta.resolve('tsx/esm/api') : 'tsx/esm/api';
  const boot = `import(${JSON.stringify(tsxApi)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(boot, { ...options, eval: true });
}
