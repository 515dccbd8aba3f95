import { newId } from '../../cmp/ids.js';
import { STORE_TYPES, type StoreType } from '../../cmp/types.js';
import type { Embedder } from '../../embedding/embedder.js';
import type { LlmProvider } from '../../providers/llm-provider.js';
import type { Stores } from '../store/protocol.js';
import { Archiver } from './archiver.js';
import { AssociationGraph } from './association-graph.js';
import { Digester } from './digester.js';
import { Encoder, INFERRED_LINKS } from './encoder.js';
import { EvolutionKeeper } from './evolution-keeper.js';
import type { IntrospectContext } from './introspect.js';
import { LocalLedger, type Ledger } from './ledger.js';
import type { RecallScoring } from './recall.js';
import { Recaller } from './recaller.js';
import { RecallModes } from './recall-modes.js';
import { SimilarLinker } from './similar-linker.js';
import { HippocampusState } from './state.js';

// The hippocampus's options and the parts built from them, wired once: every part that writes is given
// the ledger and the graph, never a callback into the hippocampus (issue 18, move 1).

/** Per-store parameters new records start with (DESIGN §2.1). */
export interface StoreRecordParams {
  /** Power-law exponent d. */
  decay_rate: number;
  /** Initial stability S0, seconds. */
  stability: number;
}

export interface HippocampusOptions {
  stores: Stores;
  recordParams: Record<StoreType, StoreRecordParams>;
  embedder: Embedder;
  /** LLM for dream and consolidation summaries and relations (spec §4.11); null or absent = none. */
  llm?: LlmProvider | null;
  /** Spreading activation (spec §4.5): activation kept per hop, and the floor below which it stops. */
  activation: { decayFactor: number; threshold: number };
  /** Recall scoring knobs over defaultRecallScoring (recall.ts); absent = the defaults. */
  scoring?: Partial<RecallScoring>;
  /** Cosine similarity from which a new memory is linked to an existing one (type `semantic`). */
  associationThreshold: number;
  /** Fidelity below which a decay tick deletes a record, per store (spec §4.2). */
  pruneThreshold: Record<StoreType, number>;
  /** Where the hippocampus keeps its own small state (recall mode), or null to keep it in memory. */
  statePath: string | null;
  /** Where archives are staged during export and import; default the system's temporary directory. */
  tempDir?: string;
  /** The clock, injected so tests can move time (milliseconds since the epoch). */
  now?: () => number;
  log?: (line: string) => void;
  /** The ledger to write through; default a LocalLedger (cluster mode passes a replicated one, issue 16). */
  newLedger?: (fixture: { stores: Stores; graph: AssociationGraph; now: () => number }) => LoadableLedger;
}

/** A Ledger that reads every store's sequences and graph before the hippocampus serves. */
export type LoadableLedger = Ledger & { load(): Promise<void> };

export interface HippocampusParts {
  graph: AssociationGraph;
  ledger: LoadableLedger;
  evolution: EvolutionKeeper;
  modes: RecallModes;
  linker: SimilarLinker;
  encoder: Encoder;
  recaller: Recaller;
  digester: Digester;
  archiver: Archiver;
  /** What the read-only operations (introspect.ts) and forget read from. */
  reads: IntrospectContext;
}

const perStore = <T>(pick: (store: StoreType) => T) => Object.fromEntries(STORE_TYPES.map((store) => [store, pick(store)])) as Record<StoreType, T>;

export function assembleParts(options: HippocampusOptions): HippocampusParts {
  const { stores, embedder, recordParams } = options;
  const now = options.now ?? Date.now;
  const log = options.log ?? ((line: string) => console.error(line));
  const graph = new AssociationGraph();
  const ledger = options.newLedger?.({ stores, graph, now }) ?? new LocalLedger({ stores, graph, now });
  // The recall modes and the learned parameters share one state file (state.ts).
  const state = new HippocampusState(options.statePath);
  const modes = new RecallModes(state);
  const evolution = new EvolutionKeeper({
    state,
    now,
    log,
    configured: perStore((store) => ({ ...recordParams[store], prune_threshold: options.pruneThreshold[store] })),
  });
  const linker = new SimilarLinker({ stores, ledger, threshold: options.associationThreshold, maxLinks: INFERRED_LINKS, log });
  const stability = perStore((store) => recordParams[store].stability);
  const { episodic, semantic } = recordParams;
  return {
    graph,
    ledger,
    evolution,
    modes,
    linker,
    encoder: new Encoder({ stores, graph, ledger, embedder, evolution, stability, linker, now }),
    recaller: new Recaller({ stores, graph, ledger, embedder, now, modes, evolution, activation: options.activation, scoring: options.scoring, log }),
    digester: new Digester({
      stores,
      graph,
      ledger,
      embedder,
      now,
      newId: () => newId(now()),
      llm: options.llm ?? null,
      log,
      recordParams: {
        episodic: { decay_rate: episodic.decay_rate, stability: episodic.stability },
        semantic: { decay_rate: semantic.decay_rate, stability: semantic.stability },
      },
    }),
    archiver: new Archiver({ stores, graph, ledger, now, log, ...(options.tempDir === undefined ? {} : { tempDir: options.tempDir }) }),
    reads: { stores, graph, evolution, embedder, now },
  };
}
