import { isCmpError } from '../../cmp/errors.js';
import type { Association, StoreType } from '../../cmp/types.js';
import type { Stores } from '../store/protocol.js';
import type { Ledger } from './ledger.js';

// Association inference after the write (DESIGN §2 item 4, reference §4.7 extended; issue 17): each new
// memory is linked to the most similar existing memories of its store — type `semantic`, weight =
// cosine similarity, at most `maxLinks`, from the configured threshold up. Its vector is computed by
// the store behind the write, so the linker asks the store (`similarOf`) and, for records whose vector
// is still in the backlog, asks again a little later. Memories of the same batch are not linked to each
// other this way (the batch's own sequential and session links do that).
//
// Best effort, by design: inferred links are not part of an encode's acknowledgement. A crash before
// they are written loses them (nothing else); a store that is restarting contributes none; and while a
// bulk load keeps more than `maxQueued` records waiting, further ones are not linked (a 100,000-record
// import would otherwise hold a queue as long as the model takes to embed it, minutes).

export interface SimilarLinkerOptions {
  stores: Pick<Stores, StoreType>;
  threshold: number;
  maxLinks: number;
  /** Where the links are written (sequence, graph upkeep). */
  ledger: Pick<Ledger, 'apply'>;
  log: (line: string) => void;
  /** Records waiting at most; default 20,000. */
  maxQueued?: number;
  /** Wait before asking again about records whose vector is not there yet, ms; default 250. */
  retryMs?: number;
}

interface Job {
  space: string;
  store: StoreType;
  /** Records still to link, with their existing semantic targets (not linked twice). */
  records: Map<string, Set<string>>;
  batch: Set<string>;
  at: string;
}

export class SimilarLinker {
  readonly #o: Required<SimilarLinkerOptions>;
  #jobs: Job[] = [];
  #queued = 0;
  #running = false;
  #timer: NodeJS.Timeout | undefined;
  #overflowLogged = false;
  #stopped = false;

  constructor(options: SimilarLinkerOptions) {
    this.#o = { maxQueued: 20_000, retryMs: 250, ...options };
  }

  /** Records waiting to be linked. */
  get queued(): number {
    return this.#queued;
  }

  /** Queues freshly written records of one store (`existing`: their semantic targets already). */
  add(space: string, store: StoreType, records: { id: string; existing: string[] }[], batch: string[], at: string): void {
    if (records.length === 0) return;
    if (this.#queued + records.length > this.#o.maxQueued) {
      if (!this.#overflowLogged) {
        this.#o.log(`associations: ${this.#queued} records wait for their vector to be linked by similarity; newer ones are not linked until the backlog shrinks`);
        this.#overflowLogged = true;
      }
      return;
    }
    this.#overflowLogged = false;
    this.#jobs.push({ space, store, records: new Map(records.map((record) => [record.id, new Set(record.existing)])), batch: new Set(batch), at });
    this.#queued += records.length;
    if (!this.#timer) void this.#run();
  }

  /** For good: the hippocampus stops serving, so no link is written from now on, not even one in flight. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#jobs = [];
    this.#queued = 0;
  }

  async #run(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      while (this.#jobs.length > 0 && !this.#stopped) {
        const jobs = this.#jobs;
        this.#jobs = [];
        let progressed = false;
        for (const job of jobs) {
          const before = job.records.size;
          await this.#step(job).catch((error: unknown) => {
            this.#o.log(`associations: linking by similarity failed in space ${job.space}: ${error instanceof Error ? error.message : String(error)}`);
            job.records.clear();
          });
          this.#queued -= before - job.records.size;
          if (job.records.size < before) progressed = true;
          if (job.records.size > 0) this.#jobs.push(job);
        }
        if (!progressed && this.#jobs.length > 0) {
          // Every record left still waits for its vector: ask again later.
          this.#timer = setTimeout(() => {
            this.#timer = undefined;
            void this.#run();
          }, this.#o.retryMs);
          this.#timer.unref();
          return;
        }
      }
    } finally {
      this.#running = false;
    }
  }

  async #step(job: Job): Promise<void> {
    const ids = [...job.records.keys()];
    let found: ({ id: string; similarity: number }[] | null)[];
    try {
      found = await this.#o.stores[job.store].similarOf(job.space, ids, this.#o.maxLinks, this.#o.threshold);
    } catch (error) {
      // A restarting or stopping store contributes no links.
      if (isCmpError(error) && error.code === 'STORE_UNAVAILABLE') {
        job.records.clear();
        return;
      }
      throw error;
    }
    const links: { source_id: string; association: Association }[] = [];
    ids.forEach((id, index) => {
      const hits = found[index];
      if (hits === null) return;
      const existing = job.records.get(id)!;
      job.records.delete(id);
      for (const hit of hits) {
        if (job.batch.has(hit.id) || existing.has(hit.id)) continue;
        links.push({
          source_id: id,
          association: { target_id: hit.id, association_type: 'semantic', weight: Math.min(1, hit.similarity), created_at: job.at, last_co_activation: job.at },
        });
      }
    });
    if (links.length > 0 && !this.#stopped) await this.#o.ledger.apply(job.space, job.store, { type: 'associations.added', links });
  }
}
