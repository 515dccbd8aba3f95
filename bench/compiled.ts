import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';

// Benches that time start-up or worker round trips run the compiled server, as `npm start` does: started
// from TypeScript source, each store worker would load tsx and compile its modules itself, which is a
// cost of the development setup, not of the server. Builds dist/ the way `npm start` does (incremental,
// so a few seconds when nothing changed) and imports the runtime from there.

const ROOT = join(import.meta.dirname, '..');

export interface CompiledServer {
  runtime: typeof import('../src/runtime/runtime.js');
  config: typeof import('../src/runtime/config/index.js');
  requests: typeof import('../src/cmp/requests.js');
}

/** Builds dist/ as `npm start` does; returns the command line that runs the compiled `cerememory`. */
export function buildDist(progress: (line: string) => void): string[] {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const started = performance.now();
  execFileSync(process.execPath, [tsc, '-p', ROOT, '--incremental', '--tsBuildInfoFile', join(ROOT, 'dist/.tsbuildinfo')], { stdio: 'inherit' });
  progress(`compiled to dist/ (${Math.round(performance.now() - started)} ms)`);
  return [join(ROOT, 'dist/main.js')];
}

export async function compiledServer(progress: (line: string) => void): Promise<CompiledServer> {
  buildDist(progress);
  const load = (path: string) => import(new URL(`../dist/${path}`, import.meta.url).href);
  return {
    runtime: (await load('runtime/runtime.js')) as CompiledServer['runtime'],
    config: (await load('runtime/config/index.js')) as CompiledServer['config'],
    requests: (await load('cmp/requests.js')) as CompiledServer['requests'],
  };
}
