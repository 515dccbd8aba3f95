// Reused scratch of text-index.ts searches: sets and score accumulators over slot numbers, cleared
// in O(1), so a search allocates nothing per candidate.

/**
 * A set of slots over dense arrays, cleared in O(1): a slot is in the set while its stamp equals the
 * current epoch; `touched` lists the members in insertion order.
 */
export class SlotSet {
  readonly #stamp: Uint32Array;
  readonly touched: Int32Array;
  count = 0;
  #epoch = 0;

  constructor(capacity: number) {
    this.#stamp = new Uint32Array(capacity);
    this.touched = new Int32Array(capacity);
  }

  reset(): this {
    this.count = 0;
    if (this.#epoch === 0xffffffff) {
      this.#stamp.fill(0);
      this.#epoch = 0;
    }
    this.#epoch += 1;
    return this;
  }

  has(slot: number): boolean {
    return this.#stamp[slot] === this.#epoch;
  }

  /** Adds `slot`; true if it was not in the set yet. */
  touch(slot: number): boolean {
    if (this.#stamp[slot] === this.#epoch) return false;
    this.#stamp[slot] = this.#epoch;
    this.touched[this.count++] = slot;
    return true;
  }
}

/** A SlotSet whose members carry a score and a hit count, both starting at 0. */
export class Accumulator extends SlotSet {
  readonly score: Float64Array;
  readonly hits: Uint32Array;

  constructor(capacity: number) {
    super(capacity);
    this.score = new Float64Array(capacity);
    this.hits = new Uint32Array(capacity);
  }

  add(slot: number, score: number): void {
    if (this.touch(slot)) {
      this.score[slot] = score;
      this.hits[slot] = 0;
    } else {
      this.score[slot] += score;
    }
  }
}

/** What a search needs, allocated once and reused: 76 bytes per slot in all. */
export class Scratch {
  /** Score of every candidate. */
  readonly total: Accumulator;
  /** Documents dropped by `-term` clauses. */
  readonly excluded: SlotSet;
  /** A multi-term group's candidates with their summed score and how many of its terms each holds. */
  readonly group: Accumulator;
  /** Documents holding the group's current term, once each though they may hold it in two fields. */
  readonly seen: SlotSet;
  /** A term's frequency in each body read with its turn context (TextIndex.search with `context`). */
  readonly context: Accumulator;

  constructor(readonly capacity: number) {
    this.total = new Accumulator(capacity);
    this.excluded = new SlotSet(capacity);
    this.group = new Accumulator(capacity);
    this.seen = new SlotSet(capacity);
    this.context = new Accumulator(capacity);
  }
}
