import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { buildDist } from '../../bench/compiled.js';

// The `cerememory` and `cerememory-recorder` commands that tests run as child processes (issue 18,
// move 5) run compiled, from dist/ built once per `vitest run` from the current source, the way
// `npm start` builds it (bench/compiled.ts: tsc, incremental). Run through tsx, every child paid ~2 s of
// CPU on top of its work (tsx in its main thread and again in each store worker: 3.6 s against 1.5 s
// for one `store`), and the suite starts about a hundred of them. The build test checks that this
// compile succeeded; the benches' tests compile the same dist/ and find it up to date. The children
// thus run the source under test, never a dist/ left by an earlier build; the tsx path of
// spawn-worker.ts stays covered by every runtime the tests boot in process.

const ROOT = join(import.meta.dirname, '../..');

declare module 'vitest' {
  export interface ProvidedContext {
    /** What tsc reported when the global setup compiled dist/ ('' when it compiled cleanly). */
    distBuildError: string;
  }
}

/**
 * vitest globalSetup. A compile error does not stop the run here (tsc still emits): `npm test` type
 * checks first, and test/build.test.ts fails with tsc's report.
 */
export default function setup(project: TestProject): void {
  let error = '';
  try {
    buildDist(() => undefined);
  } catch (reason) {
    error = String(reason);
  }
  project.provide('distBuildError', error);
}

/** `node` arguments that run `cerememory` (`entry` 'main') or another entry point of src/, compiled. */
export function compiledEntry(entry: 'main' | 'recorder/main' = 'main'): string[] {
  return [join(ROOT, 'dist', `${entry}.js`)];
}
