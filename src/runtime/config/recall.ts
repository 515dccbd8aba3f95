// The [recall] section: spreading activation and the scoring knobs of recall.ts. The defaults are the
// modules' own: activation.ts's `defaultActivationOptions` and recall.ts's `defaultRecallScoring`.

import type { z } from 'zod';
import { defaultActivationOptions } from '../../actors/hippocampus/activation.js';
import { defaultRecallScoring } from '../../actors/hippocampus/recall.js';
import { fraction, int, num, table } from './fields.js';

export const recallSchema = table({
  /** Activation kept per hop of spreading activation. Fraction, default 0.5, range 0..1. */
  activation_decay_factor: fraction(),
  /** Activation below which spreading stops. Fraction, default 0.05, range 0..1. */
  activation_threshold: fraction(),
  /** Hops of spreading activation when a recall names none. Hops, default 2, range 0..8. */
  default_activation_depth: int(0, 8),
  /**
   * Share of the text score of a memory's session neighbours (the memories just before and after it in
   * its session) that a text cue lends it: answers often sit in the turn after the one a question
   * echoes. Fraction, default 0 (turn_context does this better), range 0..1; 0 = off.
   */
  session_neighbour_weight: fraction(),
  /**
   * Turn context of text search: a memory's words are read with this share of those of the memories
   * just before and after it in its session, and half of it for those two away, so a question that
   * echoes one turn also finds the reply beside it. Fraction, default 0.5 (best on the LoCoMo dev
   * conversations), range 0..1; 0 = off.
   */
  turn_context: fraction(),
  /**
   * How much a memory attributed to someone the cue names gains (a transcript line `Name: …`, after
   * an optional `[date]`, recalled by a cue naming Name). Fraction added to its score, default 0.5
   * (best on the LoCoMo dev conversations), range 0..1; 0 = off.
   */
  attribution_boost: fraction(),
  /**
   * Share of the vector (cosine) signal when a cue has text and a vector; the text (BM25) signal has
   * the rest. Fraction, range 0..1; default 0.5 with a semantic embedder (best on the LoCoMo dev
   * conversations with "local"), 0.4 with "lexical", whose cosines measure shared stems, not meaning.
   */
  vector_weight: fraction(),
  /**
   * How much a memory holding the cue's words consecutively gains: the whole cue word for word
   * multiplies its score by 1 + phrase_boost (a part of it by less, see phraseMatch in recall.ts), so a
   * memory that says exactly what the cue says ranks first among many that share its words. Factor,
   * default 1, range 0..4; 0 = off.
   */
  phrase_boost: num('a number in 0..4', (n) => n >= 0 && n <= 4),
  /**
   * How much a memory naming a time ("last week", "in May", "2022") gains when the cue asks "when …".
   * Fraction added, default 0.4, range 0..1; 0 = off.
   */
  time_boost: fraction(),
  /**
   * Share of the best score among a memory's session that it gains (over the best of the recall): a
   * memory among other good hits of its conversation ranks above an isolated one. Fraction, default
   * 0.1, range 0..1; 0 = off.
   */
  session_boost: fraction(),
});

/** With provider "semantic" embedders; rules.ts lowers vector_weight for "lexical" (LEXICAL_VECTOR_WEIGHT). */
export const recallDefaults: z.infer<typeof recallSchema> = {
  activation_decay_factor: defaultActivationOptions.decayFactor,
  activation_threshold: defaultActivationOptions.threshold,
  default_activation_depth: defaultActivationOptions.depth,
  session_neighbour_weight: defaultRecallScoring.sessionNeighbourWeight,
  turn_context: defaultRecallScoring.turnContext,
  attribution_boost: defaultRecallScoring.attributionBoost,
  vector_weight: defaultRecallScoring.vectorWeight,
  phrase_boost: defaultRecallScoring.phraseBoost,
  time_boost: defaultRecallScoring.timeBoost,
  session_boost: defaultRecallScoring.sessionBoost,
};
