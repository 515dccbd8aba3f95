import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The formatter (Biome, configured in biome.json) has the last word on layout: the suite fails on a file
// it would change, and `npm run format` rewrites them.

const ROOT = join(import.meta.dirname, '..');
const BIOME = createRequire(import.meta.url).resolve('@biomejs/biome/bin/biome');
const biome = (args: string[], input?: string) => spawnSync(process.execPath, [BIOME, ...args], { cwd: ROOT, encoding: 'utf8', input });

describe('formatting', () => {
  it('every source, test and bench file is as `npm run format` leaves it', () => {
    const result = biome(['format', '.']);
    expect(result.status, `${result.stdout}\n${result.stderr}\nrun \`npm run format\``).toBe(0);
  });

  it('the check sees a file laid out otherwise (double quotes, no semicolons, a cramped object)', () => {
    const result = biome(['format', '--stdin-file-path=src/example.ts'], 'const a = {b:"c"}\n');
    expect(result.status).toBe(0);
    expect(result.stdout).toBe("const a = { b: 'c' };\n");
  });
});
