import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { textOf } from '../src/cmp/content.js';
import { parseEncodeBatch, parseRecallQuery } from '../src/cmp/requests.js';
import { createEmbedder } from '../src/embedding/index.js';
import { loadConfig } from '../src/runtime/config/index.js';
import { startRuntime } from '../src/runtime/runtime.js';
import { prng, vocabulary, zipfSentences } from './corpus.js';
import { CATEGORY_NAMES, loadLocomo, memoryText, scoredQuestions, sessionDateTime, sessionsOf, type LocomoSample } from './locomo.js';
import type { Bench } from './run.js';
import { percentiles, round, rssSampler } from './stats.js';

// Cerememory next to its nearest peer an agent would install instead: the reference MCP memory server
// (@modelcontextprotocol/server-memory, a knowledge graph in one JSONL file). Both run as stdio MCP
// servers spawned side by side; the same N memories go into each through its own tools in the same
// batch size (Cerememory `batch_store`; the graph server `create_entities`, one entity per memory whose
// one observation is the memory text), then the same queries go through each search tool (Cerememory
// `recall`, limit 5, the tool's defaults otherwise; the graph server `search_nodes`). Calls alternate
// A/B (load batches and queries), so machine drift hits both. Every query has one known target memory:
//   - `words`: 3 of the target's words (rarer than the 50 most common), shuffled — what an agent types;
//   - `phrase`: 4 consecutive words of the target, exactly — what substring matching needs.
// A hit is the target text among the first 5 results. The graph server returns every entity matching
// the substring, unranked (file order), so its rank-5 cut is the first 5 of that list; the number it
// returns is reported too. Peak RSS is each server process's VmHWM from /proc. Cerememory acknowledges
// a write before its vector is computed (issue 17); queries start once its vector backlog (the `stats`
// tool) is empty, and the time that took is reported.
// Then real language: the LoCoMo dev conversations (../shared/eval/locomo-dev.json, CC BY-NC 4.0, read
// from there at bench time, never copied here). Each conversation goes into a fresh pair of servers,
// every turn one memory as the retrieval bench stores it (`[date] Speaker: text`, bench/locomo.ts),
// through the same tools (`batch_store` carries no session, so Cerememory gets no session links here);
// then each scored question (categories 1–4) goes as asked through `recall` (limit 10, the tool's
// defaults otherwise) and `search_nodes`. R@k = share of the question's evidence turns among the first k
// results, averaged over questions, as in the retrieval bench.
// Last, the speed floor of a plain vector store: a brute-force cosine scan over local-embedder vectors
// of `scan` records against Cerememory's recall on the same records, both in this process (no MCP round
// trip on either side; loading 100,000 records through MCP would not fit the bench's time budget).

const ROOT = join(import.meta.dirname, '..');
const TOP = 5;
/** Untimed queries before each measured run (JIT, caches). */
const WARM_UP = 10;

export interface PeersOptions {
  sizes: number[];
  queries: number;
  batch: number;
  /** Records of the brute-force scan comparison; 0 skips it. */
  scan: number;
  /** LoCoMo-format file of the real-question workload; null skips it. */
  locomo: string | null;
  /** Conversations of that file to use (the first ones). */
  conversations: number;
}

export const LOCOMO_DEV = join(ROOT, '..', 'shared', 'eval', 'locomo-dev.json');

export const DEFAULT_OPTIONS: PeersOptions = {
  sizes: [1_000, 10_000],
  queries: 200,
  batch: 100,
  scan: 100_000,
  locomo: LOCOMO_DEV,
  conversations: 5,
};

export interface Query {
  target: number;
  words: string;
  phrase: string;
}

/** Queries with a known target memory each; see the header for the two variants. */
export function queriesFor(texts: string[], count: number, seed = 7): Query[] {
  const random = prng(seed);
  const rank = new Map(vocabulary().map((word, index) => [word, index]));
  return Array.from({ length: count }, () => {
    const target = Math.floor(random() * texts.length);
    const words = texts[target].replace(/\.$/, '').split(' ');
    const rare = [...new Set(words.filter((word) => (rank.get(word) ?? 0) >= 50))];
    const pool = rare.length >= 3 ? rare : [...new Set(words)];
    for (let i = pool.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [pool[i], pool[j]] = [pool[j], pool[i]];
    }
    const start = Math.floor(random() * Math.max(1, words.length - 3));
    return { target, words: pool.slice(0, 3).join(' '), phrase: words.slice(start, start + 4).join(' ') };
  });
}

interface Peer {
  name: string;
  pid: number;
  load(texts: string[], offset: number): Promise<void>;
  /** Resolves once what was loaded is fully searchable (Cerememory: no record waits for its vector). */
  settle(): Promise<void>;
  /** Texts of the results, in the order returned; `limit` where the tool takes one (default 5). */
  search(query: string, limit?: number): Promise<string[]>;
  close(): Promise<void>;
}

interface ToolAnswer {
  isError?: boolean;
  content: { type: string; text: string }[];
  structuredContent?: Record<string, unknown>;
}

async function callTool(client: Client, name: string, args: Record<string, unknown>): Promise<ToolAnswer> {
  const answer = (await client.callTool({ name, arguments: args }, undefined, { timeout: 600_000 })) as ToolAnswer;
  if (answer.isError) throw new Error(`${name}: ${answer.content[0]?.text}`);
  return answer;
}

async function spawnPeer(command: string, args: string[], env: Record<string, string>): Promise<{ client: Client; pid: number; stderr: () => string }> {
  const transport = new StdioClientTransport({
    command,
    args,
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stderr: 'pipe',
  });
  let tail = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4000);
  });
  const client = new Client({ name: 'cerememory-bench-peers', version: '1.0.0' });
  try {
    await client.connect(transport);
  } catch (error) {
    throw new Error(`${args.join(' ')} did not start: ${(error as Error).message}\n${tail}`);
  }
  const pid = transport.pid;
  if (pid === null) throw new Error(`${args.join(' ')}: no process id`);
  return { client, pid, stderr: () => tail };
}

async function startCerememory(): Promise<Peer> {
  const dir = mkdtempSync(join(tmpdir(), 'cerememory-bench-peers-'));
  const { client, pid } = await spawnPeer(process.execPath, ['--import', 'tsx', 'src/main.ts', '--data-dir', dir, 'mcp'], {});
  return {
    name: 'cerememory',
    pid,
    async load(texts) {
      await callTool(client, 'batch_store', { records_json: JSON.stringify(texts.map((content) => ({ content }))) });
    },
    async settle() {
      for (;;) {
        const answer = await callTool(client, 'stats', {});
        if (Number((JSON.parse(answer.content[0].text) as { vector_backlog?: number }).vector_backlog ?? 0) === 0) return;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
    async search(query, limit = TOP) {
      const answer = await callTool(client, 'recall', { query, limit });
      return (JSON.parse(answer.content[0].text) as { memories: { text: string | null }[] }).memories.map((m) => m.text ?? '');
    },
    async close() {
      await client.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startGraphServer(): Promise<Peer> {
  const dir = mkdtempSync(join(tmpdir(), 'cerememory-bench-graph-'));
  const entry = join(ROOT, 'node_modules/@modelcontextprotocol/server-memory/dist/index.js');
  const { client, pid } = await spawnPeer(process.execPath, [entry], { MEMORY_FILE_PATH: join(dir, 'memory.jsonl') });
  return {
    name: 'server-memory',
    pid,
    async load(texts, offset) {
      const entities = texts.map((text, index) => ({ name: `memory-${offset + index}`, entityType: 'memory', observations: [text] }));
      await callTool(client, 'create_entities', { entities });
    },
    async settle() {},
    async search(query) {
      const answer = await callTool(client, 'search_nodes', { query });
      const graph = (answer.structuredContent ?? JSON.parse(answer.content[0].text)) as { entities: { observations: string[] }[] };
      return graph.entities.map((entity) => entity.observations.join('\n'));
    },
    async close() {
      await client.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Peak resident set of a process (VmHWM) in MiB, or null where /proc is not there. */
export function peakRssMiB(pid: number): number | null {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? round(Number(match[1]) / 1024, 1) : null;
  } catch {
    return null;
  }
}

/** Loads the texts into every peer in `batch`-sized calls, alternating which goes first; seconds per peer. */
async function loadAll(peers: Peer[], texts: string[], batch: number, progress: (line: string) => void): Promise<number[]> {
  const seconds = peers.map(() => 0);
  const step = Math.max(batch, Math.ceil(texts.length / 10 / batch) * batch);
  for (let offset = 0, call = 0; offset < texts.length; offset += batch, call++) {
    const chunk = texts.slice(offset, offset + batch);
    const order = call % 2 === 0 ? peers.map((_, i) => i) : peers.map((_, i) => peers.length - 1 - i);
    for (const i of order) {
      const t0 = performance.now();
      await peers[i].load(chunk, offset);
      seconds[i] += (performance.now() - t0) / 1000;
    }
    if ((offset + batch) % step === 0 && offset + batch < texts.length) {
      progress(`  loaded ${offset + batch}/${texts.length} (${peers.map((p, i) => `${p.name} ${round(seconds[i], 1)} s`).join(', ')})`);
    }
  }
  return seconds;
}

interface SearchStats {
  latency_ms: Record<string, number>;
  hits_at_5: number;
  hit_rate_at_5: number;
  /** Target anywhere in what was returned (the graph server returns every match). */
  found_anywhere: number;
  mean_results_returned: number;
}

function summarise(latencies: number[], hits: number, anywhere: number, returned: number, count: number): SearchStats {
  return {
    latency_ms: percentiles(latencies),
    hits_at_5: hits,
    hit_rate_at_5: round(hits / Math.max(1, count)),
    found_anywhere: anywhere,
    mean_results_returned: round(returned / Math.max(1, count), 1),
  };
}

type Searcher = { name: string; search(query: string): Promise<string[]> };

/** Runs each query through every searcher, alternating which goes first. */
async function searchAll(searchers: Searcher[], queries: string[], targets: string[]): Promise<Record<string, SearchStats>> {
  const latencies = searchers.map(() => [] as number[]);
  const hits = searchers.map(() => 0);
  const anywhere = searchers.map(() => 0);
  const returned = searchers.map(() => 0);
  for (let q = 0; q < queries.length; q++) {
    const order = q % 2 === 0 ? searchers.map((_, i) => i) : searchers.map((_, i) => searchers.length - 1 - i);
    for (const i of order) {
      const t0 = performance.now();
      const results = await searchers[i].search(queries[q]);
      latencies[i].push(performance.now() - t0);
      if (results.slice(0, TOP).some((text) => text.includes(targets[q]))) hits[i] += 1;
      if (results.some((text) => text.includes(targets[q]))) anywhere[i] += 1;
      returned[i] += results.length;
    }
  }
  return Object.fromEntries(searchers.map((s, i) => [s.name, summarise(latencies[i], hits[i], anywhere[i], returned[i], queries.length)]));
}

/** Waits until every peer has settled; seconds per peer, measured from the same start. */
async function settleAll(peers: Peer[]): Promise<number[]> {
  const started = performance.now();
  return Promise.all(
    peers.map(async (peer) => {
      await peer.settle();
      return round((performance.now() - started) / 1000, 1);
    }),
  );
}

export interface PeerRow {
  system: string;
  memories: number;
  load_s: number;
  load_records_per_s: number;
  /** After the last load call, until every memory was searchable by vector too (0: no backlog). */
  vectors_settled_s: number;
  peak_rss_mib: number | null;
  words: SearchStats;
  phrase: SearchStats;
}

async function compareAt(size: number, options: PeersOptions, progress: (line: string) => void): Promise<PeerRow[]> {
  const texts = zipfSentences(size, 23);
  const queries = queriesFor(texts, options.queries);
  const targets = queries.map((query) => texts[query.target]);
  const peers = [await startCerememory(), await startGraphServer()];
  try {
    progress(`${size} memories: loading both servers in batches of ${options.batch}`);
    const loadSeconds = await loadAll(peers, texts, options.batch, progress);
    const settled = await settleAll(peers);
    progress(`${size} memories: vectors settled after ${peers.map((p, i) => `${p.name} ${settled[i]} s`).join(', ')}; ${queries.length} queries × 2 variants`);
    const warmUp = queriesFor(texts, WARM_UP, 3);
    await searchAll(
      peers,
      warmUp.map((query) => query.words),
      warmUp.map((query) => texts[query.target]),
    );
    const words = await searchAll(
      peers,
      queries.map((query) => query.words),
      targets,
    );
    const phrase = await searchAll(
      peers,
      queries.map((query) => query.phrase),
      targets,
    );
    const rows = peers.map(
      (peer, i): PeerRow => ({
        system: peer.name,
        memories: size,
        load_s: round(loadSeconds[i], 2),
        load_records_per_s: round(size / loadSeconds[i], 0),
        vectors_settled_s: settled[i],
        peak_rss_mib: peakRssMiB(peer.pid),
        words: words[peer.name],
        phrase: phrase[peer.name],
      }),
    );
    for (const row of rows) progress(JSON.stringify(row));
    return rows;
  } finally {
    await Promise.allSettled(peers.map((peer) => peer.close()));
  }
}

export interface QuestionScore {
  questions: number;
  recall_at_5: number;
  recall_at_10: number;
  /** Questions for which the tool returned anything at all. */
  answered: number;
  mean_results_returned: number;
}

export interface RealQuestionRow extends QuestionScore {
  system: string;
  latency_ms: Record<string, number>;
  /** Summed over the conversations. */
  load_s: number;
  vectors_settled_s: number;
  by_category: Record<string, QuestionScore>;
}

/** Share of `evidence` texts among the first `k` of `results` (evidence is a set of memory texts). */
export function evidenceRecall(results: string[], evidence: string[], k: number): number {
  const top = new Set(results.slice(0, k));
  return evidence.filter((text) => top.has(text)).length / Math.max(1, evidence.length);
}

/** The real-question workload over `samples`: a fresh pair of servers per conversation. */
async function realQuestions(samples: LocomoSample[], options: PeersOptions, progress: (line: string) => void): Promise<RealQuestionRow[]> {
  type Sums = { questions: number; at5: number; at10: number; answered: number; returned: number };
  const empty = (): Sums => ({ questions: 0, at5: 0, at10: 0, answered: 0, returned: 0 });
  const systems = new Map<string, { sums: Map<number, Sums>; latencies: number[]; load: number; settle: number }>();
  for (const sample of samples) {
    const textOf = new Map<string, string>();
    for (const [session, turns] of sessionsOf(sample)) {
      const dateTime = sessionDateTime(sample, session);
      for (const turn of turns) textOf.set(turn.dia_id, memoryText(turn, dateTime));
    }
    const texts = [...textOf.values()];
    const questions = scoredQuestions(sample);
    const peers = [await startCerememory(), await startGraphServer()];
    try {
      const loadSeconds = await loadAll(peers, texts, options.batch, () => undefined);
      const settled = await settleAll(peers);
      progress(
        `${sample.sample_id}: ${texts.length} turns loaded (${peers.map((p, i) => `${p.name} ${round(loadSeconds[i], 1)} s + vectors ${settled[i]} s`).join(', ')}); ${questions.length} questions`,
      );
      peers.forEach((peer, i) => {
        const system = systems.get(peer.name) ?? { sums: new Map(), latencies: [], load: 0, settle: 0 };
        system.load += loadSeconds[i];
        system.settle += settled[i];
        systems.set(peer.name, system);
      });
      for (let q = 0; q < questions.length; q++) {
        const { question, category, evidence } = questions[q];
        const wanted = evidence.map((id) => textOf.get(id)!);
        const order = q % 2 === 0 ? peers : [...peers].reverse();
        for (const peer of order) {
          const t0 = performance.now();
          const results = await peer.search(question, 10);
          const system = systems.get(peer.name)!;
          system.latencies.push(performance.now() - t0);
          const sums = system.sums.get(category) ?? empty();
          sums.questions += 1;
          sums.at5 += evidenceRecall(results, wanted, 5);
          sums.at10 += evidenceRecall(results, wanted, 10);
          if (results.length > 0) sums.answered += 1;
          sums.returned += results.length;
          system.sums.set(category, sums);
        }
      }
    } finally {
      await Promise.allSettled(peers.map((peer) => peer.close()));
    }
  }
  const score = (list: Sums[]): QuestionScore => {
    const total = list.reduce(
      (a, b) => ({
        questions: a.questions + b.questions,
        at5: a.at5 + b.at5,
        at10: a.at10 + b.at10,
        answered: a.answered + b.answered,
        returned: a.returned + b.returned,
      }),
      empty(),
    );
    const n = Math.max(1, total.questions);
    return {
      questions: total.questions,
      recall_at_5: round(total.at5 / n),
      recall_at_10: round(total.at10 / n),
      answered: total.answered,
      mean_results_returned: round(total.returned / n, 1),
    };
  };
  return [...systems].map(([system, { sums, latencies, load, settle }]) => ({
    system,
    ...score([...sums.values()]),
    latency_ms: percentiles(latencies),
    load_s: round(load, 1),
    vectors_settled_s: round(settle, 1),
    by_category: Object.fromEntries([...sums].sort((a, b) => a[0] - b[0]).map(([category, sum]) => [`${category} ${CATEGORY_NAMES[category]}`, score([sum])])),
  }));
}

/** A plain vector store at its simplest: every vector in one matrix, every query a full cosine scan. */
export class CosineScan {
  private matrix = new Float32Array(0);
  private count = 0;

  constructor(private readonly dimension: number) {}

  add(vectors: Float32Array[]): void {
    const next = new Float32Array((this.count + vectors.length) * this.dimension);
    next.set(this.matrix.subarray(0, this.count * this.dimension));
    vectors.forEach((vector, i) => next.set(vector, (this.count + i) * this.dimension));
    this.matrix = next;
    this.count += vectors.length;
  }

  /** Indexes of the `k` rows most similar to `query` (vectors are L2-normalised, so dot = cosine). */
  top(query: Float32Array, k: number): number[] {
    const best: { index: number; score: number }[] = [];
    const { matrix, dimension } = this;
    for (let row = 0; row < this.count; row++) {
      let score = 0;
      const base = row * dimension;
      for (let d = 0; d < dimension; d++) score += matrix[base + d] * query[d];
      if (best.length < k || score > best[best.length - 1].score) {
        best.push({ index: row, score });
        best.sort((a, b) => b.score - a.score);
        if (best.length > k) best.pop();
      }
    }
    return best.map((entry) => entry.index);
  }
}

export interface ScanReport {
  records: number;
  loaded_through: string;
  cerememory_load_s: number;
  scan_embed_s: number;
  queries: number;
  cerememory_recall: SearchStats;
  cosine_scan: SearchStats;
  /** The scan alone, without embedding the query. */
  cosine_scan_only_ms: Record<string, number>;
  peak_rss_mib: number;
}

/**
 * Both sides in this process, no MCP: Cerememory's engine loaded with the request `batch_store` makes
 * (automatic store, `infer_associations`), recalled as the `recall` tool does (limit 5, reconsolidate,
 * depth 2); the scan over the same texts' local-embedder vectors. RSS is this process's, both included.
 */
async function scanComparison(size: number, options: PeersOptions, progress: (line: string) => void): Promise<ScanReport> {
  const texts = zipfSentences(size, 29);
  const queries = queriesFor(texts, options.queries, 11);
  const targets = queries.map((query) => texts[query.target]);
  const rss = rssSampler();
  const embedder = createEmbedder({ provider: 'lexical', dimension: 256 });
  const scan = new CosineScan(embedder.dimension);
  const embedStarted = performance.now();
  for (let offset = 0; offset < size; offset += 10_000) scan.add(await embedder.embed(texts.slice(offset, offset + 10_000)));
  const embedSeconds = (performance.now() - embedStarted) / 1000;
  progress(`scan: ${size} vectors embedded in ${round(embedSeconds, 1)} s; loading Cerememory's engine`);
  const dataDir = mkdtempSync(join(tmpdir(), 'cerememory-bench-peers-scan-'));
  const runtime = await startRuntime(loadConfig({ env: {}, cwd: dataDir, flags: { data_dir: dataDir } }), { log: () => undefined });
  try {
    const loadStarted = performance.now();
    for (let offset = 0; offset < size; offset += options.batch) {
      const chunk = texts.slice(offset, offset + options.batch);
      await runtime.hippocampus.encodeBatch(
        parseEncodeBatch({
          infer_associations: true,
          records: chunk.map((text) => ({ content: { blocks: [{ modality: 'text', format: 'text/plain', data: Buffer.from(text).toString('base64') }] } })),
        }),
      );
      const done = offset + chunk.length;
      if (done % Math.max(options.batch, size / 10) === 0 && done < size) progress(`  loaded ${done}/${size} (${round((performance.now() - loadStarted) / 1000, 1)} s)`);
    }
    const loadSeconds = (performance.now() - loadStarted) / 1000;
    progress(`scan: Cerememory loaded in ${round(loadSeconds, 1)} s; ${queries.length} queries`);
    const cerememory: Searcher = {
      name: 'cerememory',
      async search(query) {
        const answer = await runtime.hippocampus.recallQuery(parseRecallQuery({ cue: { text: query }, limit: TOP, reconsolidate: true, activation_depth: 2, recall_mode: 'perfect' }));
        return answer.memories.map((memory) => textOf(memory.record.content) ?? '');
      },
    };
    const scanOnly: number[] = [];
    const brute: Searcher = {
      name: 'cosine_scan',
      async search(query) {
        const [vector] = await embedder.embed([query]);
        const t0 = performance.now();
        const top = scan.top(vector, TOP);
        scanOnly.push(performance.now() - t0);
        return top.map((index) => texts[index]);
      },
    };
    const warmUp = queriesFor(texts, WARM_UP, 3);
    await searchAll(
      [cerememory, brute],
      warmUp.map((query) => query.words),
      warmUp.map((query) => texts[query.target]),
    );
    scanOnly.length = 0;
    const stats = await searchAll(
      [cerememory, brute],
      queries.map((query) => query.words),
      targets,
    );
    return {
      records: size,
      loaded_through: `Cerememory's engine in this process (hippocampus.encodeBatch, ${options.batch} per call), not MCP`,
      cerememory_load_s: round(loadSeconds, 1),
      scan_embed_s: round(embedSeconds, 2),
      queries: queries.length,
      cerememory_recall: stats.cerememory,
      cosine_scan: stats.cosine_scan,
      cosine_scan_only_ms: percentiles(scanOnly),
      peak_rss_mib: rss.stop(),
    };
  } finally {
    rss.stop();
    await runtime.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function runPeers(options: PeersOptions, progress: (line: string) => void = () => undefined) {
  const rows: PeerRow[] = [];
  for (const size of options.sizes) rows.push(...(await compareAt(size, options, progress)));
  let real: { file: string; conversations: string[]; rows: RealQuestionRow[] } | null = null;
  if (options.locomo !== null && options.conversations > 0) {
    if (existsSync(options.locomo)) {
      const samples = loadLocomo(options.locomo).slice(0, options.conversations);
      real = { file: options.locomo, conversations: samples.map((sample) => sample.sample_id), rows: await realQuestions(samples, options, progress) };
      for (const row of real.rows) progress(JSON.stringify(row));
    } else {
      progress(`real questions skipped: ${options.locomo} not found`);
    }
  }
  const scan = options.scan > 0 ? await scanComparison(options.scan, options, progress) : null;
  if (scan) progress(JSON.stringify(scan));
  return {
    peers: {
      cerememory: 'this repository, `cerememory mcp --data-dir <tmp>` (engine in-process, default configuration)',
      'server-memory': 'npm @modelcontextprotocol/server-memory 2026.8.31, MEMORY_FILE_PATH=<tmp>/memory.jsonl',
    },
    corpus: 'bench/corpus.ts zipfSentences (8–18 Zipf-distributed pseudo-words per memory)',
    batch: options.batch,
    queries: options.queries,
    query_variants: {
      words: "3 of the target memory's words (rarer than the 50 most common), shuffled",
      phrase: '4 consecutive words of the target memory, exactly',
    },
    search_tools: { cerememory: 'recall (limit 5, otherwise the tool defaults: reconsolidate, activation depth 2)', 'server-memory': 'search_nodes (all substring matches, file order)' },
    rows,
    real_questions: real && {
      ...real,
      file: real.file.startsWith(join(ROOT, '..')) ? `../${real.file.slice(join(ROOT, '..').length + 1)}` : real.file,
      data: 'LoCoMo (Maharana et al., ACL 2024), CC BY-NC 4.0, read at bench time, never copied into the repository',
      memory: '`[<session date_time>] <speaker>: <text>` (+ ` [shares a photo of <caption>]`), one per turn, through batch_store / create_entities (no session context)',
      questions: 'categories 1–4 with evidence in the conversation, as asked; recall limit 10 (tool defaults otherwise: reconsolidate, activation depth 2); search_nodes',
    },
    scan,
  };
}

function option(args: string[], name: string): string | undefined {
  const index = args.indexOf(name);
  return index === -1 ? undefined : args[index + 1];
}

const bench: Bench = {
  description:
    'Cerememory vs @modelcontextprotocol/server-memory over MCP stdio on pseudo-word memories and on real questions (LoCoMo dev), and a brute-force cosine scan (options: --sizes 1000,10000 --queries 200 --batch 100 --scan 100000 --locomo ../shared/eval/locomo-dev.json --conversations 5; --conversations 0 skips the real questions)',
  async run(args, progress) {
    const options: PeersOptions = {
      sizes: (option(args, '--sizes') ?? DEFAULT_OPTIONS.sizes.join(','))
        .split(',')
        .map(Number)
        .filter((n) => n > 0),
      queries: Number(option(args, '--queries') ?? DEFAULT_OPTIONS.queries),
      batch: Number(option(args, '--batch') ?? DEFAULT_OPTIONS.batch),
      scan: Number(option(args, '--scan') ?? DEFAULT_OPTIONS.scan),
      locomo: option(args, '--locomo') ?? DEFAULT_OPTIONS.locomo,
      conversations: Number(option(args, '--conversations') ?? DEFAULT_OPTIONS.conversations),
    };
    return runPeers(options, progress);
  },
};

export default bench;
