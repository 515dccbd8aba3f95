import { randomUUID } from 'node:crypto';
import { prng } from '../corpus.js';
import { sleep } from './process.js';

// The chaos bench's load generator: `concurrency` clients, each a loop of mixed writes against one
// server URL (which may be killed and restarted under it):
//   rest-encode     POST /v1/encode, one record, Idempotency-Key header
//   rest-batch      POST /v1/encode/batch, 5 records into random stores (a cross-store batch)
//   rest-raw        POST /v1/encode/raw, one raw journal entry
//   connect-encode  EncodeStore through the typed Connect client (idempotency_key in the request)
//   rest-forget     DELETE /v1/lifecycle/forget (confirm) of a record acknowledged before
// Every record written carries a unique marker in `metadata.marker`. A request is built once and sent
// again unchanged, with the same idempotency key, after a connection error, a 5xx or a retryable code,
// with a short backoff, until it is acknowledged or its deadline passes. A definitive 4xx is recorded as
// refused. A small share of requests is invalid on purpose (a bad store, modality or session id): they
// must be refused whole, and nothing of them may be stored.
//
// In `disk` mode (the disk-full round) a 5xx other than 503 is final: the request is recorded as failed
// with its status and code, since retrying it cannot help while the disk is full.

export type Op = 'rest-encode' | 'rest-batch' | 'rest-raw' | 'connect-encode' | 'rest-forget';
export const OPS: Op[] = ['rest-encode', 'rest-batch', 'rest-raw', 'connect-encode', 'rest-forget'];
const WEIGHTS: Record<Op, number> = { 'rest-encode': 30, 'rest-batch': 20, 'rest-raw': 15, 'connect-encode': 25, 'rest-forget': 10 };
const CURATED_STORES = ['episodic', 'semantic', 'procedural', 'emotional'] as const;
const BATCH_SIZE = 5;

/** The typed client's surface the bench uses (dist/client/client.js, loaded after the build). */
export interface ConnectClient {
  call(name: 'encodeStore', request: Record<string, unknown>): Promise<Record<string, unknown>>;
  close(): void;
}
export type ConnectFactory = (url: string) => ConnectClient;

export interface Ack {
  id: string;
  op: Op;
  /** The store the record went into, `raw_journal` for the raw journal. */
  store: string;
}

export interface Failure {
  op: Op;
  status: number;
  code: string;
}

/** What the clients were told: the integrity checker compares the stored data with it. */
export class Ledger {
  /** marker → the acknowledged record */
  readonly acked = new Map<string, Ack>();
  /** marker → a definitive refusal; `intended` for the requests made invalid on purpose */
  readonly refused = new Map<string, Failure & { intended: boolean }>();
  /** marker → a request given up (deadline, or a final 5xx in disk mode): its outcome is unknown */
  readonly failed = new Map<string, Failure>();
  /** marker → record id, for every acknowledged forget */
  readonly forgotten = new Map<string, string>();
  /** markers whose forget was given up: present or not, both are correct */
  readonly forgetUnknown = new Set<string>();
  /** requests sent, requests that needed at least one retry, retry attempts in all */
  requests = 0;
  retriedRequests = 0;
  retries = 0;
  /** acknowledged records (a batch counts 5) */
  recordsAcked = 0;
  /** "<status> <code>" or the connection error's code → how often an attempt ended so */
  readonly errors: Record<string, number> = {};
  /** things a correct server never does (e.g. a valid request refused), with details */
  readonly anomalies: string[] = [];

  noteError(label: string): void {
    this.errors[label] = (this.errors[label] ?? 0) + 1;
  }

  anomaly(text: string): void {
    if (this.anomalies.length < 50) this.anomalies.push(text);
  }
}

type Outcome = { kind: 'ok'; body: Record<string, unknown> } | { kind: 'retry'; status: number; code: string } | { kind: 'final'; status: number; code: string; message: string };

const RETRYABLE_CODES = new Set(['STORE_UNAVAILABLE', 'RATE_LIMITED', 'WORKING_MEMORY_FULL', 'DECAY_ENGINE_BUSY', 'CONSOLIDATION_IN_PROGRESS']);

function errorCode(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; name?: unknown } }).cause;
  if (typeof cause?.code === 'string') return cause.code;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  return (error as Error).name ?? 'Error';
}

export interface LoadOptions {
  url: string;
  connect: ConnectFactory;
  seed: number;
  /** round label, the prefix of every marker */
  round: string;
  concurrency?: number;
  /** per request, retries included */
  deadlineMs?: number;
  /** share of requests made invalid on purpose */
  invalidRate?: number;
  /** bytes of text per record */
  payloadBytes?: number;
  mode?: 'retry' | 'disk';
}

export class LoadGenerator {
  readonly ledger = new Ledger();
  readonly #options: Required<LoadOptions>;
  #stopping = false;
  #clients: Promise<void>[] = [];
  #inFlight = 0;
  #startedAt = 0;
  #stoppedAt = 0;
  /** acknowledged curated markers that may still be forgotten */
  readonly #forgettable: string[] = [];

  constructor(options: LoadOptions) {
    this.#options = { concurrency: 8, deadlineMs: 60_000, invalidRate: 0.04, payloadBytes: 160, mode: 'retry', ...options };
  }

  /** requests sent and not yet answered for good */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** seconds between start and stop */
  get seconds(): number {
    return ((this.#stoppedAt || performance.now()) - this.#startedAt) / 1000;
  }

  start(): void {
    this.#startedAt = performance.now();
    for (let index = 0; index < this.#options.concurrency; index++) this.#clients.push(this.#client(index));
  }

  /** Lets every client finish the request it is on (retries included), then returns. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await Promise.all(this.#clients);
    this.#stoppedAt = performance.now();
  }

  async #client(index: number): Promise<void> {
    const random = prng(this.#options.seed * 1000 + index + 1);
    let connect: ConnectClient | undefined;
    let seq = 0;
    const total = OPS.reduce((sum, op) => sum + WEIGHTS[op], 0);
    try {
      while (!this.#stopping) {
        let pick = random() * total;
        const op = OPS.find((candidate) => (pick -= WEIGHTS[candidate]) < 0) ?? 'rest-encode';
        const invalid = op !== 'rest-forget' && random() < this.#options.invalidRate;
        const marker = () => `${this.#options.round}-c${index}-${seq++}`;
        this.#inFlight++;
        try {
          if (op === 'rest-forget') {
            await this.#forget(random);
          } else if (op === 'connect-encode') {
            connect ??= this.#options.connect(this.#options.url);
            const record = this.#record(marker(), random, invalid ? 'bogus_store' : undefined);
            const request = { ...record.body, idempotency_key: randomUUID() };
            await this.#send(
              op,
              [record.marker],
              invalid,
              async () => {
                try {
                  return { kind: 'ok', body: await connect!.call('encodeStore', request) };
                } catch (error) {
                  const outcome = this.#connectOutcome(error);
                  if (outcome.kind === 'retry') {
                    connect?.close();
                    connect = undefined;
                    connect = this.#options.connect(this.#options.url);
                  }
                  return outcome;
                }
              },
              (body) => [{ id: body.record_id as string, store: body.store as string }],
            );
          } else if (op === 'rest-encode') {
            const record = this.#record(marker(), random, invalid ? 'bogus_store' : undefined);
            const key = randomUUID();
            await this.#send(
              op,
              [record.marker],
              invalid,
              () => this.#rest('POST', '/v1/encode', record.body, key),
              (body) => [{ id: body.record_id as string, store: body.store as string }],
            );
          } else if (op === 'rest-batch') {
            const records = Array.from({ length: BATCH_SIZE }, () => this.#record(marker(), random));
            if (invalid) {
              const content = records[2]!.body.content as { blocks: Record<string, unknown>[] };
              content.blocks[0]!.modality = 'telepathy';
            }
            const key = randomUUID();
            await this.#send(
              op,
              records.map((r) => r.marker),
              invalid,
              () => this.#rest('POST', '/v1/encode/batch', { records: records.map((r) => r.body) }, key),
              (body) => (body.results as { record_id: string; store: string }[]).map((r) => ({ id: r.record_id, store: r.store })),
            );
          } else {
            const m = marker();
            const body = {
              session_id: invalid ? '  ' : `chaos-session-${index}`,
              source: 'conversation',
              speaker: random() < 0.5 ? 'user' : 'assistant',
              visibility: 'normal',
              secrecy_level: 'public',
              content: this.#content(m, random),
              metadata: { marker: m },
            };
            const key = randomUUID();
            await this.#send(
              op,
              [m],
              invalid,
              () => this.#rest('POST', '/v1/encode/raw', body, key),
              (answer) => [{ id: answer.record_id as string, store: 'raw_journal' }],
            );
          }
        } finally {
          this.#inFlight--;
        }
      }
    } finally {
      connect?.close();
    }
  }

  #content(marker: string, random: () => number) {
    const letters = 'abcdefghijklmnopqrstuvwxyz';
    let text = `chaos record ${marker}`;
    while (text.length < this.#options.payloadBytes) {
      let word = ' ';
      const length = 3 + Math.floor(random() * 7);
      for (let i = 0; i < length; i++) word += letters[Math.floor(random() * 26)];
      text += word;
    }
    return { blocks: [{ modality: 'text', format: 'text/plain', data: Buffer.from(text).toString('base64') }] };
  }

  #record(marker: string, random: () => number, store?: string) {
    return {
      marker,
      body: {
        store: store ?? CURATED_STORES[Math.floor(random() * CURATED_STORES.length)]!,
        content: this.#content(marker, random),
        metadata: { marker },
      } as Record<string, unknown>,
    };
  }

  async #rest(method: string, path: string, body: unknown, key: string): Promise<Outcome> {
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${this.#options.url}${path}`, {
        method,
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
      text = await response.text();
    } catch (error) {
      return { kind: 'retry', status: 0, code: errorCode(error) };
    }
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // not JSON: keep the status only
    }
    if (response.ok) return { kind: 'ok', body: json };
    const code = typeof json.code === 'string' ? json.code : 'no-code';
    const message = typeof json.message === 'string' ? json.message : text.slice(0, 200);
    if (response.status === 503 || response.status === 429 || RETRYABLE_CODES.has(code)) return { kind: 'retry', status: response.status, code };
    if (response.status >= 500) {
      return this.#options.mode === 'disk' ? { kind: 'final', status: response.status, code, message } : { kind: 'retry', status: response.status, code };
    }
    return { kind: 'final', status: response.status, code, message };
  }

  #connectOutcome(error: unknown): Outcome {
    const cause = (error as { cause?: { code?: unknown; metadata?: Headers } }).cause;
    const cmpCode = typeof (error as { code?: unknown }).code === 'string' ? (error as { code: string }).code : undefined;
    // The server's own code header (a code newer than this client's table is kept as sent).
    const header = cause?.metadata?.get?.('cerememory-error-code') ?? cmpCode ?? errorCode(error);
    const status = typeof cause?.code === 'number' ? cause.code : 0;
    const label = `connect:${status}`;
    if (cmpCode === undefined || RETRYABLE_CODES.has(header) || RETRYABLE_CODES.has(cmpCode)) return { kind: 'retry', status: 0, code: `${label} ${header}` };
    if (header === 'INTERNAL_ERROR' || cmpCode === 'INTERNAL_ERROR' || header === 'STORAGE_FULL') {
      return this.#options.mode === 'disk' ? { kind: 'final', status: 0, code: `${label} ${header}`, message: (error as Error).message } : { kind: 'retry', status: 0, code: `${label} ${header}` };
    }
    return { kind: 'final', status: 0, code: `${label} ${header}`, message: (error as Error).message };
  }

  /** Sends until acknowledged or final; records the outcome for `markers`. */
  async #send(op: Op, markers: string[], invalid: boolean, attempt: () => Promise<Outcome>, acks: (body: Record<string, unknown>) => { id: string; store: string }[]): Promise<Outcome> {
    const ledger = this.ledger;
    ledger.requests++;
    const deadline = Date.now() + (this.#options.mode === 'disk' ? Math.min(this.#options.deadlineMs, 15_000) : this.#options.deadlineMs);
    let retries = 0;
    for (;;) {
      const outcome = await attempt();
      if (outcome.kind === 'ok') {
        const answered = acks(outcome.body);
        if (answered.length !== markers.length || answered.some((a) => typeof a.id !== 'string')) {
          ledger.anomaly(`${op}: answer does not acknowledge ${markers.length} records: ${JSON.stringify(outcome.body).slice(0, 200)}`);
        }
        if (invalid) ledger.anomaly(`${op}: a request made invalid on purpose was acknowledged (${markers.join(', ')})`);
        markers.forEach((marker, index) => {
          const answer = answered[index];
          if (!answer) return;
          ledger.acked.set(marker, { id: answer.id, op, store: answer.store });
          ledger.recordsAcked++;
          if (answer.store !== 'raw_journal' && !invalid) this.#forgettable.push(marker);
        });
        return outcome;
      }
      const label = `${outcome.status} ${outcome.code}`.trim();
      ledger.noteError(label);
      if (outcome.kind === 'final') {
        if ((outcome.status >= 400 && outcome.status < 500) || (outcome.status === 0 && !/INTERNAL_ERROR|STORAGE_FULL/.test(outcome.code))) {
          for (const marker of markers) ledger.refused.set(marker, { op, status: outcome.status, code: outcome.code, intended: invalid });
          if (!invalid) ledger.anomaly(`${op}: a valid request was refused: ${label} ${outcome.message.slice(0, 160)}`);
        } else {
          for (const marker of markers) ledger.failed.set(marker, { op, status: outcome.status, code: outcome.code });
        }
        return outcome;
      }
      if (Date.now() > deadline) {
        for (const marker of markers) ledger.failed.set(marker, { op, status: outcome.status, code: `gave up after ${label}` });
        return outcome;
      }
      if (retries++ === 0) ledger.retriedRequests++;
      ledger.retries++;
      await sleep(Math.min(1000, 40 * 2 ** Math.min(retries, 5)) * (0.5 + Math.random()));
    }
  }

  async #forget(random: () => number): Promise<void> {
    if (this.#forgettable.length === 0) return;
    const index = Math.floor(random() * this.#forgettable.length);
    const marker = this.#forgettable[index]!;
    this.#forgettable[index] = this.#forgettable[this.#forgettable.length - 1]!;
    this.#forgettable.pop();
    const { id } = this.ledger.acked.get(marker)!;
    const key = randomUUID();
    let attempts = 0;
    const outcome = await this.#send(
      'rest-forget',
      [],
      false,
      () => {
        attempts++;
        return this.#rest('DELETE', '/v1/lifecycle/forget', { record_ids: [id], confirm: true }, key);
      },
      () => [],
    );
    if (outcome.kind === 'ok') {
      this.ledger.forgotten.set(marker, id);
      // On the first attempt the record was acknowledged and never forgotten: it must be there.
      if (attempts === 1 && outcome.body.records_deleted !== 1) {
        this.ledger.anomaly(`forget of acknowledged ${marker} (${id}) deleted ${String(outcome.body.records_deleted)} records on its first attempt`);
      }
    } else {
      this.ledger.forgetUnknown.add(marker);
    }
  }
}
