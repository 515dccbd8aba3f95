import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TextIndex } from '../src/actors/store/text-index.js';
import { loadConfig, type CerememoryConfig, type PartialDeep } from '../src/runtime/config/index.js';
import { startServer } from '../src/server.js';
import { CATEGORY_NAMES, generateSample, loadLocomo, memoryText, scoredQuestions, sessionDateTime, sessionsOf, type LocomoSample } from './locomo.js';
import type { Bench } from './run.js';
import { round } from './stats.js';

// Retrieval quality on conversation data in the LoCoMo format, scored as ../shared/eval/README.md says
// (the project's headline figure): each conversation into a fresh data directory of a real server; every
// turn one memory `[<session date_time>] <speaker>: <text>` (+ ` [shares a photo of <caption>]`); every
// scored question (categories 1–4) recalled once through REST POST /v1/recall/query, limit 10, perfect
// mode, no reconsolidation; R@k = share of the question's evidence turns among the first k memories.
// Plain Okapi BM25 (k1 1.2, b 0.75) over the same texts is computed in the same run. Each ablation row
// switches one signal off, so each signal's contribution shows.
//
// The turns are encoded with their session as context (`context.session_id`), as a chat client that
// knows its conversation would; the "without session links" row drops it.

export interface CategoryScore {
  questions: number;
  recall_at_5: number;
  recall_at_10: number;
}

export interface RetrievalRow extends CategoryScore {
  system: string;
  /** Per LoCoMo category, keyed "1 multi-hop" … "4 single-hop". */
  by_category: Record<string, CategoryScore>;
}

/** Ranks dia_ids for a question; built once per conversation. */
type Ranker = (sample: LocomoSample) => Promise<{ rank: (question: string) => Promise<string[]>; close: () => Promise<void> }>;

export interface EngineVariant {
  name: string;
  /** Server configuration on top of the defaults. */
  flags: PartialDeep<CerememoryConfig>;
  /** Encode each turn with its session as context. */
  sessionContext: boolean;
  /** Extra fields of the recall request (e.g. activation_depth). */
  request: Record<string, unknown>;
}

export const VARIANTS: EngineVariant[] = [
  { name: 'cerememory', flags: {}, sessionContext: true, request: {} },
  { name: 'cerememory without turn context', flags: { recall: { turn_context: 0 } }, sessionContext: true, request: {} },
  { name: 'cerememory without the local embedder', flags: { embedding: { provider: 'none' } }, sessionContext: true, request: {} },
  { name: 'cerememory with the model per cue (no static query vectors)', flags: { embedding: { query_vectors: 'model' } }, sessionContext: true, request: {} },
  { name: 'cerememory without session links', flags: {}, sessionContext: false, request: {} },
  { name: 'cerememory without attribution', flags: { recall: { attribution_boost: 0 } }, sessionContext: true, request: {} },
  { name: 'cerememory without the turn before in vectors', flags: { embedding: { session_context: false } }, sessionContext: true, request: {} },
  { name: 'cerememory without the time boost', flags: { recall: { time_boost: 0 } }, sessionContext: true, request: {} },
  { name: 'cerememory without the session boost', flags: { recall: { session_boost: 0 } }, sessionContext: true, request: {} },
  { name: 'cerememory without the phrase boost', flags: { recall: { phrase_boost: 0 } }, sessionContext: true, request: {} },
  { name: 'cerememory without activation', flags: {}, sessionContext: true, request: { activation_depth: 0 } },
  { name: 'cerememory with neighbour scores instead of turn context', flags: { recall: { turn_context: 0, session_neighbour_weight: 0.5 } }, sessionContext: true, request: {} },
];

/** The static query table's cache file in a data directory (embed-worker.ts). */
const PIECE_TABLE = join('embedding', 'use-lite-v1.pieces.f32');
/**
 * A copy of the first server's static query table, put into every later data directory: each server
 * would otherwise distil its own (~6 s of model time), the same table every time.
 */
let pieceTableCopy: string | undefined;

function recallAt(ranked: string[], evidence: string[], k: number): number {
  const top = new Set(ranked.slice(0, k));
  return evidence.filter((id) => top.has(id)).length / evidence.length;
}

async function score(system: string, samples: LocomoSample[], ranker: Ranker): Promise<RetrievalRow> {
  const sums = new Map<number, { questions: number; at5: number; at10: number }>();
  for (const sample of samples) {
    const { rank, close } = await ranker(sample);
    try {
      for (const qa of scoredQuestions(sample)) {
        const ranked = await rank(qa.question);
        const sum = sums.get(qa.category) ?? { questions: 0, at5: 0, at10: 0 };
        sum.questions += 1;
        sum.at5 += recallAt(ranked, qa.evidence, 5);
        sum.at10 += recallAt(ranked, qa.evidence, 10);
        sums.set(qa.category, sum);
      }
    } finally {
      await close();
    }
  }
  const of = (list: { questions: number; at5: number; at10: number }[]): CategoryScore => {
    const questions = list.reduce((n, s) => n + s.questions, 0);
    const at5 = list.reduce((n, s) => n + s.at5, 0);
    const at10 = list.reduce((n, s) => n + s.at10, 0);
    return { questions, recall_at_5: round(at5 / Math.max(1, questions)), recall_at_10: round(at10 / Math.max(1, questions)) };
  };
  const by_category = Object.fromEntries([...sums].sort((a, b) => a[0] - b[0]).map(([category, sum]) => [`${category} ${CATEGORY_NAMES[category]}`, of([sum])]));
  return { system, ...of([...sums.values()]), by_category };
}

/** Every turn of a sample as the memory text it is stored as. */
function memories(sample: LocomoSample): { id: string; session: string; text: string }[] {
  return sessionsOf(sample).flatMap(([session, turns]) => {
    const dateTime = sessionDateTime(sample, session);
    return turns.map((turn) => ({ id: turn.dia_id, session, text: memoryText(turn, dateTime) }));
  });
}

/**
 * The baseline: textbook Okapi BM25 (k1 1.2, b 0.75) over lowercase runs of letters and digits, no
 * stemming, no stopwords — what a plain full-text index answers.
 */
const plainBm25: Ranker = async (sample) => okapi(sample, (text) => text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []);

// NLTK's English stopword list (its one-letter contraction pieces included). The README's reference
// figure for plain BM25 (0.547 / 0.611) is close to what BM25 gives with it (0.546 / 0.601) and not to
// textbook BM25 without it (0.492 / 0.560), so both are reported: the stronger one is the bar.
const ENGLISH_STOPWORDS = new Set(
  (
    'i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers herself it its itself ' +
    'they them their theirs themselves what which who whom this that these those am is are was were be been being have has had ' +
    'having do does did doing a an the and but if or because as until while of at by for with about against between into through ' +
    'during before after above below to from up down in out on off over under again further then once here there when where why how ' +
    'all any both each few more most other some such no nor not only own same so than too very s t can will just don should now'
  ).split(' '),
);

/** The same BM25 with NLTK's English stopwords dropped from turns and questions. */
const stopwordBm25: Ranker = async (sample) => okapi(sample, (text) => (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter((word) => !ENGLISH_STOPWORDS.has(word)));

async function okapi(sample: LocomoSample, words: (text: string) => string[]): ReturnType<Ranker> {
  const docs = memories(sample).map((memory) => ({ id: memory.id, terms: words(memory.text) }));
  const averageLength = docs.reduce((sum, doc) => sum + doc.terms.length, 0) / Math.max(1, docs.length);
  const frequency = new Map<string, number>();
  for (const doc of docs) for (const term of new Set(doc.terms)) frequency.set(term, (frequency.get(term) ?? 0) + 1);
  const rank = async (question: string) => {
    const query = new Set(words(question));
    const scored = docs.map((doc) => {
      let score = 0;
      for (const term of query) {
        const tf = doc.terms.filter((t) => t === term).length;
        if (tf === 0) continue;
        const df = frequency.get(term) ?? 0;
        const idf = Math.log(1 + (docs.length - df + 0.5) / (df + 0.5));
        score += (idf * tf * 2.2) / (tf + 1.2 * (0.25 + (0.75 * doc.terms.length) / averageLength));
      }
      return { id: doc.id, score };
    });
    return scored
      .filter((doc) => doc.score > 0)
      .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1))
      .slice(0, 10)
      .map((doc) => doc.id);
  };
  return { rank, close: async () => undefined };
}

/** Our BM25 text index alone (Unicode tokenizer + Porter stemming + stopwords, BM25+). */
const stemmedBm25: Ranker = async (sample) => {
  const index = new TextIndex();
  for (const memory of memories(sample)) index.upsert('s', memory.id, { body: memory.text, summary: null });
  return { rank: async (question) => index.search('s', question, 10).map((hit) => hit.id), close: async () => undefined };
};

/** The engine as a user calls it: a real server per conversation, REST, JSON. */
function engine(variant: EngineVariant): Ranker {
  return async (sample) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cerememory-bench-retrieval-'));
    const config = loadConfig({
      env: {},
      cwd: dataDir,
      flags: {
        ...variant.flags,
        data_dir: dataDir,
        http: { port: 0 },
        decay: { background_enabled: false },
        dream: { background_enabled: false },
        rate_limit: { requests_per_second: 1_000_000, burst: 1_000_000 },
      },
    });
    const staticQueries = config.embedding.provider === 'local' && config.embedding.query_vectors === 'static';
    if (staticQueries && pieceTableCopy) {
      mkdirSync(join(dataDir, 'embedding'), { recursive: true });
      copyFileSync(pieceTableCopy, join(dataDir, PIECE_TABLE));
    }
    const server = await startServer(config, { log: () => undefined });
    const post = async (path: string, body: unknown): Promise<unknown> => {
      const response = await fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
      return response.json();
    };
    try {
      const diaOf = new Map<string, string>();
      const all = memories(sample);
      for (let offset = 0; offset < all.length; offset += 500) {
        const chunk = all.slice(offset, offset + 500);
        const reply = (await post('/v1/encode/batch', {
          records: chunk.map((memory) => ({
            store: 'episodic',
            content: { blocks: [{ modality: 'text', format: 'text/plain', data: Buffer.from(memory.text).toString('base64') }] },
            ...(variant.sessionContext ? { context: { session_id: `${sample.sample_id}/${memory.session}` } } : {}),
          })),
        })) as { results: { record_id: string }[] };
        reply.results.forEach((result, index) => diaOf.set(result.record_id, chunk[index].id));
      }
      // Vectors follow the acknowledged write (issue 17): questions are asked once every turn has one.
      await vectorsIndexed(server.url, staticQueries);
      if (staticQueries && !pieceTableCopy && existsSync(join(dataDir, PIECE_TABLE))) {
        pieceTableCopy = join(mkdtempSync(join(tmpdir(), 'cerememory-bench-pieces-')), 'use-lite-v1.pieces.f32');
        copyFileSync(join(dataDir, PIECE_TABLE), pieceTableCopy);
      }
      const rank = async (question: string) => {
        const answer = (await post('/v1/recall/query', {
          cue: { text: question },
          limit: 10,
          recall_mode: 'perfect',
          reconsolidate: false,
          ...variant.request,
        })) as { memories: { record: { id: string } }[] };
        return answer.memories.map((memory) => diaOf.get(memory.record.id) ?? memory.record.id);
      };
      return {
        rank,
        close: async () => {
          await server.close();
          rmSync(dataDir, { recursive: true, force: true });
        },
      };
    } catch (error) {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
      throw error;
    }
  };
}

/**
 * Waits until no record of the server waits for its vector or its similar-memory links (GET
 * /readiness): questions asked before the links are in would score a race, not the engine; and, with
 * `staticQueries`, until cues are embedded by the static query table, as they are in steady state.
 */
async function vectorsIndexed(url: string, staticQueries: boolean): Promise<void> {
  for (;;) {
    const readiness = (await (await fetch(`${url}/readiness`)).json()) as { embedding?: { vector_backlog: number; links_pending: number; query_vectors?: string } };
    const cues = !staticQueries || readiness.embedding?.query_vectors === 'static';
    if (cues && (readiness.embedding?.vector_backlog ?? 0) === 0 && (readiness.embedding?.links_pending ?? 0) === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function evaluateRetrieval(samples: LocomoSample[], progress: (line: string) => void = () => undefined, variants: EngineVariant[] = VARIANTS): Promise<RetrievalRow[]> {
  const rows: RetrievalRow[] = [];
  const run = async (name: string, ranker: Ranker) => {
    const started = performance.now();
    const row = await score(name, samples, ranker);
    progress(
      `${JSON.stringify({ ...row, by_category: undefined })} ${Object.entries(row.by_category)
        .map(([c, s]) => `${c} ${s.recall_at_5}/${s.recall_at_10}`)
        .join(', ')} (${round((performance.now() - started) / 1000, 1)} s)`,
    );
    rows.push(row);
  };
  await run('bm25 (baseline)', plainBm25);
  await run('bm25 + english stopwords', stopwordBm25);
  await run('bm25 + stemming (our text index alone)', stemmedBm25);
  for (const variant of variants) await run(variant.name, engine(variant));
  return rows;
}

const bench: Bench = {
  description:
    'retrieval quality on LoCoMo-format conversations (options: --file ../shared/eval/locomo-dev.json; default: a generated sample; ' +
    '--samples N: the first N conversations only; --systems "a,b": only these engine rows)',
  resultName(args) {
    return args.includes('--file') ? 'retrieval-locomo' : 'retrieval';
  },
  async run(args, progress) {
    const option = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
    const file = option('--file') ?? null;
    let samples = file ? loadLocomo(file) : generateSample(4, 6);
    const first = Number(option('--samples'));
    if (first > 0) samples = samples.slice(0, first);
    const systems = option('--systems')
      ?.split(',')
      .map((name) => name.trim());
    const variants = systems ? VARIANTS.filter((variant) => systems.includes(variant.name)) : VARIANTS;
    const turns = samples.reduce((sum, sample) => sum + memories(sample).length, 0);
    const questions = samples.reduce((n, sample) => n + scoredQuestions(sample).length, 0);
    progress(`${samples.length} conversations, ${turns} turns, ${questions} scored questions (${file ?? 'generated'})`);
    return {
      data: file ? `${file} (read at bench time; LoCoMo, CC BY-NC 4.0, see ../shared/eval/README.md)` : 'generated (bench/locomo.ts)',
      samples: samples.map((sample) => sample.sample_id),
      turns,
      questions,
      scoring:
        'per conversation a fresh data dir and server; turn = "[<session date_time>] <speaker>: <text>" (+ " [shares a photo of <blip_caption>]"), ' +
        'context.session_id = its session; categories 1-4 with evidence naming a turn; REST POST /v1/recall/query, limit 10, recall_mode perfect, ' +
        'reconsolidate false; R@k = share of evidence turns in the first k',
      rows: await evaluateRetrieval(samples, progress, variants),
    };
  },
};

export default bench;
