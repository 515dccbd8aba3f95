import { execFileSync, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeDir, tempDataDir, textContent } from './helpers/server.js';

// `npm run build` compiles to dist/ and `node dist/main.js` runs the same server, store workers
// included (they start from .js, not through tsx). Built into a scratch folder inside node_modules so
// that module resolution works and the developer's dist/ is left alone.

const ROOT = join(import.meta.dirname, '..');
const OUT = join(ROOT, 'node_modules/.cache/cerememory-build-test');
const dataDir = tempDataDir();

afterAll(() => {
  removeDir(dataDir);
  rmSync(OUT, { recursive: true, force: true });
});

describe('the compiled server', () => {
  it('builds with tsc and serves from the compiled code', async () => {
    execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', ROOT, '--outDir', OUT], { stdio: 'pipe' });
    const child = spawn(process.execPath, [join(OUT, 'main.js'), '--data-dir', dataDir, 'serve', '--port', '0'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let stderr = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stderr!.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
          const match = /listening on (http:\/\/\S+)/.exec(stderr);
          if (match) resolve(match[1]);
        });
        child.once('exit', () => reject(new Error(`compiled server exited:\n${stderr}`)));
      });
      const stored = await fetch(`${url}/v1/encode`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ content: textContent('compiled') }) });
      expect(stored.status).toBe(200);
      const { record_id } = (await stored.json()) as { record_id: string };
      expect((await fetch(`${url}/v1/introspect/record/${record_id}`)).status).toBe(200);
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  }, 120_000);
});
