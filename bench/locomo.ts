import { readFileSync } from 'node:fs';
import { prng } from './corpus.js';

// Conversation data in the LoCoMo JSON format: a list of samples, each with `conversation` sessions
// (`session_1`, `session_2`, … arrays of turns `{speaker, dia_id, text}`) and `qa` items whose
// `evidence` names the dia_ids that answer them. `generateSample` makes a small deterministic sample of
// our own (no download), built so each retrieval feature has something to find: questions use other
// word forms than the turns (stemming, the embedder's word pieces) and some answers sit in the turn
// after the one the question echoes (session links + activation).

export interface LocomoTurn {
  speaker: string;
  dia_id: string;
  text: string;
  /** Caption of a photo shared with the turn (BLIP), when there is one. */
  blip_caption?: string;
}

export interface LocomoQa {
  question: string;
  answer?: string | number;
  evidence: string[];
  category?: number;
}

export interface LocomoSample {
  sample_id: string;
  conversation: Record<string, unknown>;
  qa: LocomoQa[];
}

export function loadLocomo(path: string): LocomoSample[] {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as unknown;
  if (!Array.isArray(parsed)) throw new Error(`${path}: expected a JSON list of samples`);
  return parsed as LocomoSample[];
}

/** The sessions of a sample in order: [session key, turns]. */
export function sessionsOf(sample: LocomoSample): [string, LocomoTurn[]][] {
  return Object.entries(sample.conversation)
    .filter((entry): entry is [string, LocomoTurn[]] => /^session_\d+$/.test(entry[0]) && Array.isArray(entry[1]))
    .sort((a, b) => Number(a[0].slice(8)) - Number(b[0].slice(8)));
}

/** `session_<n>_date_time` of a session key, e.g. "1:56 pm on 8 May, 2023"; '' when the sample has none. */
export function sessionDateTime(sample: LocomoSample, session: string): string {
  const value = sample.conversation[`${session}_date_time`];
  return typeof value === 'string' ? value : '';
}

/**
 * The memory a turn becomes, as the headline scoring stores it (../shared/eval/README.md):
 * `[<session date_time>] <speaker>: <text>`, plus ` [shares a photo of <blip_caption>]` when it has one.
 */
export function memoryText(turn: LocomoTurn, dateTime: string): string {
  const photo = turn.blip_caption ? ` [shares a photo of ${turn.blip_caption}]` : '';
  return `${dateTime ? `[${dateTime}] ` : ''}${turn.speaker}: ${turn.text}${photo}`;
}

/** LoCoMo question categories that are scored for retrieval; 5 (adversarial) is not. */
export const CATEGORY_NAMES: Readonly<Record<number, string>> = { 1: 'multi-hop', 2: 'temporal', 3: 'open-domain', 4: 'single-hop' };

export interface ScoredQuestion {
  question: string;
  category: number;
  /** The evidence dia_ids that name a turn of the conversation (a few LoCoMo ids are malformed, e.g. "D"). */
  evidence: string[];
}

/**
 * The questions the headline figure scores: categories 1–4 with at least one evidence id that names a
 * turn of the conversation; evidence ids naming no turn are dropped. On the dev file: 759 questions.
 * Questions without a category (the generated sample has them all) count as category 4.
 */
export function scoredQuestions(sample: LocomoSample): ScoredQuestion[] {
  const turns = new Set(sessionsOf(sample).flatMap(([, list]) => list.map((turn) => turn.dia_id)));
  const questions: ScoredQuestion[] = [];
  for (const qa of sample.qa) {
    const category = qa.category ?? 4;
    if (!(category in CATEGORY_NAMES) || !Array.isArray(qa.evidence)) continue;
    const evidence = [...new Set(qa.evidence.filter((id) => turns.has(id)))];
    if (evidence.length > 0) questions.push({ question: qa.question, category, evidence });
  }
  return questions;
}

// Facts: what a speaker says (turn), an optional follow-up holding the answer, and a question that
// says it differently.
const FACTS: { say: string; follow?: string; ask: string }[] = [
  { say: 'I started learning the violin last spring', ask: 'When did {p} begin violin lessons?' },
  { say: 'My sister is moving to Lisbon for her new job', ask: 'Where is the sister of {p} relocating for work?' },
  { say: 'Guess what happened at the bakery today', follow: 'They offered me the head baker position!', ask: 'What happened to {p} at the bakery?' },
  { say: 'We adopted a rescue greyhound named Pepper', ask: 'What is the name of the greyhound {p} is adopting?' },
  { say: 'I have been training for the Berlin marathon', ask: 'Which marathon are the trainings of {p} for?' },
  { say: 'You will never believe the news from the clinic', follow: 'The doctor said my knee needs surgery in March.', ask: 'What news did {p} get from the clinic?' },
  { say: 'I finally painted the kitchen a bright yellow', ask: 'What colour was the kitchen painting by {p}?' },
  { say: 'Our band is recording an album in Glasgow', follow: 'We booked the studio for three weeks in July.', ask: 'Where and when is the band of {p} recording?' },
  { say: 'I volunteered at the animal shelter on weekends', ask: 'What volunteering does {p} do at the shelter?' },
  { say: 'Something big happened with the startup', follow: 'We closed our first funding round yesterday!', ask: 'What happened with the startup of {p}?' },
  { say: 'I am reading a biography of Marie Curie', ask: 'Whose biographies has {p} been reading?' },
  { say: 'My grandmother taught me to bake sourdough bread', ask: 'Who taught {p} baking sourdough?' },
];

const FILLER = [
  'That sounds wonderful, tell me more.',
  'What happened next? I want to hear everything.',
  'Where did you go after that?',
  'Who else was there with you?',
  'The news today was all about the election.',
  'Haha, I know what you mean.',
  'How was your week otherwise?',
  'I have been so busy lately.',
  'We should catch up over coffee soon.',
  'The weather has been lovely here.',
  'Did you watch the game last night?',
  'I am so happy for you!',
];

/** A small LoCoMo-format sample set: `samples` conversations of `sessions` sessions each. */
export function generateSample(samples = 2, sessions = 4, seed = 7): LocomoSample[] {
  const random = prng(seed);
  const people = [
    ['Caroline', 'Melanie'],
    ['Jon', 'Gina'],
    ['Ana', 'Tomas'],
    ['Priya', 'Sam'],
  ];
  return Array.from({ length: samples }, (_, sampleIndex) => {
    const [a, b] = people[sampleIndex % people.length];
    const conversation: Record<string, unknown> = { speaker_a: a, speaker_b: b };
    const qa: LocomoQa[] = [];
    let factIndex = sampleIndex * 3;
    for (let session = 1; session <= sessions; session++) {
      const turns: LocomoTurn[] = [];
      const push = (speaker: string, text: string) => {
        const turn = { speaker, dia_id: `D${session}:${turns.length + 1}`, text };
        turns.push(turn);
        return turn;
      };
      for (let line = 0; line < 10; line++) {
        const speaker = line % 2 === 0 ? a : b;
        if (line === 3 || line === 7) {
          const fact = FACTS[factIndex++ % FACTS.length];
          const said = push(speaker, fact.say);
          const evidence = [said.dia_id];
          if (fact.follow) evidence.push(push(speaker, fact.follow).dia_id);
          qa.push({ question: fact.ask.replace('{p}', speaker), evidence, category: fact.follow ? 2 : 1 });
        } else {
          push(speaker, FILLER[Math.floor(random() * FILLER.length)]);
        }
      }
      conversation[`session_${session}`] = turns;
      conversation[`session_${session}_date_time`] = `1:00 pm on ${session} May, 2023`;
    }
    return { sample_id: `generated-${sampleIndex + 1}`, conversation, qa };
  });
}
