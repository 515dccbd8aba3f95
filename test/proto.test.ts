import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// proto/ is the source of truth for the Connect/gRPC surface; src/gen is committed so that users need
// no code generator. This fails when someone edits the proto and forgets `npm run generate`.

const root = join(import.meta.dirname, '..');
const buf = join(root, 'node_modules', '.bin', 'buf');
const scratch = mkdtempSync(join(tmpdir(), 'cerememory-gen-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

describe('proto/', () => {
  it('passes buf lint', () => {
    expect(() => execFileSync(buf, ['lint'], { cwd: root, stdio: 'pipe' })).not.toThrow();
  });

  it('matches the committed generated code in src/gen', () => {
    execFileSync(buf, ['generate', '-o', scratch], { cwd: root, stdio: 'pipe' });
    const fresh = join(scratch, 'src', 'gen');
    const committed = join(root, 'src', 'gen');
    expect(files(committed)).toEqual(files(fresh));
    for (const file of files(fresh)) {
      expect(readFileSync(join(committed, file), 'utf8'), `src/gen/${file} is stale: run npm run generate`).toBe(readFileSync(join(fresh, file), 'utf8'));
    }
  });
});
