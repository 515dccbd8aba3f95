import { execFile } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { compiledEntry } from '../helpers/compiled-cli.js';

// Runs `cerememory-recorder` as a user does (a separate process), and a loopback fake server whose
// answer to POST /v1/encode/raw/batch a test can change between runs.

const ROOT = join(import.meta.dirname, '../..');
/**
 * The recorder from the current source, compiled for this run (../helpers/compiled-cli.ts):
 * bin/cerememory-recorder.js prefers a dist/ that `npm start` or `npm run build` left, which may be
 * older than the source under test.
 */
export const RECORDER = compiledEntry('recorder/main');

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function recorder(args: string[], options: { stdin?: string; env?: Record<string, string> } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [...RECORDER, ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin!.end(options.stdin ?? '');
  });
}

export const jsonl = (...events: object[]): string => events.map((event) => `${JSON.stringify(event)}\n`).join('');

const spoolParents: string[] = [];
// Registered in the suite of each test file that imports this module.
afterAll(() => spoolParents.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A spool path in a fresh temporary directory, removed after the file's tests. */
export function tempSpoolDir(): string {
  const parent = mkdtempSync(join(tmpdir(), 'cerememory-recorder-test-'));
  spoolParents.push(parent);
  // A fresh subdirectory the recorder creates itself (mkdtemp's own dir is 0700 too).
  return join(parent, 'spool');
}

export interface FakeServer {
  url: string;
  /** Status answered to raw batch posts; 200 answers one result per record. */
  status: number;
  /** Every record accepted with a 200, in order. */
  accepted: { session_id: string; content: { blocks: { data: string }[] } }[];
  /** The Authorization header of every request. */
  authorizations: (string | undefined)[];
  close(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startFakeServer(status = 503): Promise<FakeServer> {
  const fake: FakeServer = { url: '', status, accepted: [], authorizations: [], close: async () => {} };
  const server: Server = createServer(async (request, response) => {
    const body = await readBody(request);
    fake.authorizations.push(request.headers.authorization);
    if (request.method === 'POST' && request.url === '/v1/encode/raw/batch') {
      if (fake.status !== 200) {
        response.writeHead(fake.status, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: { code: 'X', message: `fake ${fake.status}` } }));
        return;
      }
      const { records } = JSON.parse(body) as { records: FakeServer['accepted'] };
      fake.accepted.push(...records);
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ results: records.map((record, index) => ({ record_id: `r${fake.accepted.length + index}`, session_id: record.session_id })) }));
      return;
    }
    response.writeHead(fake.status, { 'content-type': 'application/json' });
    response.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () => new Promise((resolve) => server.close(() => resolve()));
  return fake;
}

export const recordText = (record: { content: { blocks: { data: string }[] } }): string => Buffer.from(record.content.blocks[0].data, 'base64').toString('utf8');
