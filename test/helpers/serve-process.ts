import { spawn, type ChildProcess } from 'node:child_process';
import { compiledEntry } from './compiled-cli.js';
import { LEXICAL_ENV } from './server.js';

// `cerememory serve` as a user runs it: a separate process of the compiled CLI (test/helpers/compiled-cli.ts),
// on a data directory, with only PATH, HOME, the lexical embedder and what the test adds in its
// environment. Its URL is the one it prints ("listening on …"). Used by the CLI program tests and by the
// cluster tests that kill -9 a node.

export interface ServeProcess {
  child: ChildProcess;
  /** The URL it printed once listening; rejects if it exits first. */
  url: Promise<string>;
  /** Everything it wrote to stderr so far (its log). */
  stderr: () => string;
  /** Its exit code (null when killed by a signal). */
  exited: Promise<number | null>;
}

export interface ServeOptions {
  /** Environment added to the minimal one (e.g. `CEREMEMORY_CLUSTER__MODE`). */
  env?: Record<string, string>;
  /** Runs the server inside another command (e.g. a new pid namespace). */
  launcher?: string[];
  /** Arguments after `serve`; default `--port 0`. */
  args?: string[];
}

export function serveProcess(dataDir: string, options: ServeOptions = {}): ServeProcess {
  const { env = {}, launcher = [], args = ['--port', '0'] } = options;
  const [command, ...rest] = [...launcher, process.execPath, ...compiledEntry(), '--data-dir', dataDir, 'serve', ...args];
  const child = spawn(command!, rest, {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...LEXICAL_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Read, so a chatty child never blocks on a full pipe.
  child.stdout!.resume();
  let stderr = '';
  const url = new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(stderr);
      if (match) resolve(match[1]!);
    });
    child.once('exit', () => reject(new Error(`server exited before listening:\n${stderr}`)));
  });
  url.catch(() => undefined);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, url, stderr: () => stderr, exited };
}
