import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { removeDir, tempDataDir, textContent } from './helpers/server.js';

// `npm run build` compiles to dist/ and `node dist/main.js` runs the same server, store workers
// included (they start from .js, not through tsx). dist/ is compiled as `npm start` compiles it
// (bench/compiled.ts: tsc, incremental), once per run by the suite's global setup
// (helpers/compiled-cli.ts) for the commands tests run as child processes; a compile error there fails
// this test with tsc's report.

const ROOT = join(import.meta.dirname, '..');
const dataDir = tempDataDir();

afterAll(() => removeDir(dataDir));

describe('the compiled server', () => {
  it('builds with tsc and serves from the compiled code', async () => {
    expect(inject('distBuildError')).toBe('');
    const child = spawn(process.execPath, [join(ROOT, 'dist/main.js'), '--data-dir', dataDir, 'serve', '--port', '0'], {
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
