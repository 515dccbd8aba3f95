import { join } from 'node:path';
import { parseCircular, parseDependencyTree, type DependencyTree } from 'dpdm';
import { describe, expect, it } from 'vitest';

// No import cycle in src/, type-only imports included (issue 18, move 4): a module imports what it
// builds on, never what builds on it. dpdm reads the TypeScript sources; `transform: false` keeps
// `import type` edges, which tsc erases but which still tie the two files' concepts together.

const ROOT = join(import.meta.dirname, '..');

/**
 * Cycles known and not yet broken, each exactly as dpdm reports it (files in cycle order). An entry
 * that no longer occurs fails the test too, so the list only shrinks.
 */
const ALLOWED_CYCLES: string[][] = [];

const key = (cycle: string[]) => cycle.join(' -> ');

/** Local imports dpdm could not resolve: a cycle through them would go unseen. */
function unresolvedLocalImports(tree: DependencyTree): string[] {
  return Object.entries(tree).flatMap(([file, dependencies]) =>
    (dependencies ?? []).filter((dependency) => dependency.id === null && dependency.request.startsWith('.')).map((dependency) => `${file}: ${dependency.request}`),
  );
}

describe('the import graph of src/', () => {
  it('has no cycle, type-only imports included, beyond the allow-list', async () => {
    const tree = await parseDependencyTree(['src/**/*.ts'], {
      cwd: ROOT,
      context: ROOT,
      tsconfig: join(ROOT, 'tsconfig.json'),
      transform: false,
      skipDynamicImports: false,
      exclude: /node_modules/,
    });
    expect(Object.keys(tree).filter((file) => file.startsWith('src/')).length).toBeGreaterThan(100);
    expect(unresolvedLocalImports(tree)).toEqual([]);
    const found = parseCircular(tree).map(key);
    const allowed = ALLOWED_CYCLES.map(key);
    expect(
      found.filter((cycle) => !allowed.includes(cycle)),
      'new import cycles',
    ).toEqual([]);
    expect(
      allowed.filter((cycle) => !found.includes(cycle)),
      'allow-listed cycles that are gone: remove them',
    ).toEqual([]);
  }, 60_000);
});
