import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TextIndex } from '../src/actors/store/text-index.js';
import { textOf } from '../src/cmp/content.js';
import { parseEncodeBatch, parseRecallQuery } from '../src/cmp/requests.js';
import type { MemoryRecord } from '../src/cmp/types.js';
import { loadConfig, type CerememoryConfig, type PartialDeep } from '../src/runtime/config.js';
import { startRuntime } from '../src/runtime/runtime.js';
import { generateSample, loadLocomo, sessionsOf, type LocomoSample } from './locomo.js';
import type { Bench } from './run.js';
import { round } from './stats.js';

// Retrieval quality on conversation data in the LoCoMo format: every turn is stored (one memory per
// turn, its session as context), every question is recalled, and recall@5/@10 of the evidence turns is
// reported next to plain BM25 computed in the same run. Ablation rows switch one feature off each, so
// each feature's contribution shows: the local embedder, session links (temporal associations), and
// spreading activation; "bm25 + stemming" is our text index alone.

export interface RetrievalRow {
  system: string;
  questions: number;
  recall_at_5: number;
  recall_at_10: number;
}

type Ranker = (sample: LocomoSample) => Promise<(question: string) => Promise<string[]>>;

interface EngineVariant {
  name: string;
  flags: PartialDeep<CerememoryConfig>;
  sessionContext: boolean;
  activationDepth: number;
}

const VARIANTS: EngineVariant[] = [
  { name: 'cerememory', flags: {}, sessionContext: true, activationDepth: 2 },
  { name: 'cerememory without the local embedder', flags: { embedding: { provider: 'none' } }, sessionContext: true, activationDepth: 2 },
  { name: 'cerememory without session links', flags: {}, sessionContext: false, activationDepth: 2 },
  { name: 'cerememory without activation', flags: {}, sessionContext: true, activationDepth: 0 },
];

function recallAt(ranked: string[], evidence: string[], k: number): number {
  if (evidence.length === 0) return 1;
  const top = new Set(ranked.slice(0, k));
  return evidence.filter((id) => top.has(id)).length / evidence.length;
}

async function score(system: string, samples: LocomoSample[], ranker: Ranker): Promise<RetrievalRow> {
  let questions = 0;
  let at5 = 0;
  let at10 = 0;
  for (const sample of samples) {
    const rank = await ranker(sample);
    for (const qa of sample.qa) {
      if (!Array.isArray(qa.evidence) || qa.evidence.length === 0) continue;
      const ranked = await rank(qa.question);
      questions += 1;
      at5 += recallAt(ranked, qa.evidence, 5);
      at10 += recallAt(ranked, qa.evidence, 10);
    }
  }
  return { system, questions, recall_at_5: round(at5 / Math.max(1, questions)), recall_at_10: round(at10 / Math.max(1, questions)) };
}

/**
 * The baseline: textbook Okapi BM25 (k1 1.2, b 0.75) over lowercase runs of letters and digits, no
 * stemming, no stopwords — what a plain full-text index answers.
 */
const plainBm25: Ranker = async (sample) => {
  const words = (text: string) => text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const docs = sessionsOf(sample).flatMap(([, turns]) => turns.map((turn) => ({ id: turn.dia_id, terms: words(turn.text) })));
  const averageLength = docs.reduce((sum, doc) => sum + doc.terms.length, 0) / Math.max(1, docs.length);
  const frequency = new Map<string, number>();
  for (const doc of docs) for (const term of new Set(doc.terms)) frequency.set(term, (frequency.get(term) ?? 0) + 1);
  return async (question) => {
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
    return scored.filter((doc) => doc.score > 0).sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1)).slice(0, 10).map((doc) => doc.id);
  };
};

/** Our BM25 text index alone (Unicode tokenizer + Porter stemming). */
const stemmedBm25: Ranker = async (sample) => {
  const index = new TextIndex();
  for (const [, turns] of sessionsOf(sample)) for (const turn of turns) index.upsert('s', turn.dia_id, { body: turn.text, summary: null });
  return async (question) => index.search('s', question, 10).map((hit) => hit.id);
};

async function engineRows(samples: LocomoSample[], variants: EngineVariant[], progress: (line: string) => void): Promise<RetrievalRow[]> {
  const rows: RetrievalRow[] = [];
  for (const variant of variants) {
    const dataDir = mkdtempSync(join(tmpdir(), 'cerememory-bench-retrieval-'));
    const runtime = await startRuntime(loadConfig({ env: {}, cwd: dataDir, flags: { ...variant.flags, data_dir: dataDir } }), { log: () => undefined });
    try {
      let sampleIndex = 0;
      const row = await score(variant.name, samples, async (sample) => {
        const space = `sample-${++sampleIndex}`;
        const diaOf = new Map<string, string>();
        for (const [session, turns] of sessionsOf(sample)) {
          for (let offset = 0; offset < turns.length; offset += 500) {
            const chunk = turns.slice(offset, offset + 500);
            const response = await runtime.hippocampus.encodeBatch(
              parseEncodeBatch({
                space,
                records: chunk.map((turn) => ({
                  store: 'episodic',
                  content: { blocks: [{ modality: 'text', format: 'text/plain', data: Buffer.from(`${turn.speaker}: ${turn.text}`).toString('base64') }] },
                  metadata: { dia_id: turn.dia_id },
                  context: variant.sessionContext ? { session_id: `${sample.sample_id}/${session}` } : null,
                })),
              }),
            );
            response.results.forEach((result, index) => diaOf.set(result.record_id, chunk[index].dia_id));
          }
        }
        return async (question) => {
          const answer = await runtime.hippocampus.recallQuery(
            parseRecallQuery({ space, cue: { text: question }, limit: 10, reconsolidate: false, activation_depth: variant.activationDepth, recall_mode: 'perfect' }),
          );
          return answer.memories.map((memory) => diaOf.get((memory.record as MemoryRecord).id) ?? textOf(memory.record.content) ?? '');
        };
      });
      progress(JSON.stringify(row));
      rows.push(row);
    } finally {
      await runtime.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  return rows;
}

export async function evaluateRetrieval(samples: LocomoSample[], progress: (line: string) => void = () => undefined): Promise<RetrievalRow[]> {
  const rows = [await score('bm25 (baseline)', samples, plainBm25), await score('bm25 + stemming', samples, stemmedBm25)];
  for (const row of rows) progress(JSON.stringify(row));
  return [...rows, ...(await engineRows(samples, VARIANTS, progress))];
}

const bench: Bench = {
  description: 'retrieval quality on LoCoMo-format conversations (options: --file path/to/locomo10.json; default: a generated sample)',
  async run(args, progress) {
    const fileIndex = args.indexOf('--file');
    const file = fileIndex === -1 ? null : args[fileIndex + 1];
    const samples = file ? loadLocomo(file) : generateSample(4, 6);
    const turns = samples.reduce((sum, sample) => sum + sessionsOf(sample).reduce((n, [, t]) => n + t.length, 0), 0);
    progress(`${samples.length} samples, ${turns} turns, ${samples.reduce((n, s) => n + s.qa.length, 0)} questions (${file ?? 'generated'})`);
    return { data: file ?? 'generated (bench/locomo.ts)', samples: samples.length, turns, rows: await evaluateRetrieval(samples, progress) };
  },
};

export default bench;
