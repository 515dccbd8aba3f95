// The turn links of one space's text index: which document came just before which in its session
// (a memory's `temporal` association, set by the hippocampus when it encodes a conversation turn).
// They let a search read a turn together with its neighbours (text-index.ts, `context`): in a
// conversation the words of a question often sit in the turn before or after the answer ("What did
// she adopt?" → "We adopted a puppy!" ← "Yes, a beagle"). The links are held at two levels:
//   by id    `beforeOf` (document → the document before it) and `afterOf` (the reverse), the truth,
//            kept while either end is absent so a document re-added under a new slot (an update)
//            finds its neighbours again;
//   by slot  `before[slot]` and `after` (slot → the slots after it), what a search walks, only
//            between live documents; rebuilt from the ids when slots are renumbered.
// A session is a chain, so a document has at most one document before it and, as a rule, one after.

const NONE = -1;

export class TurnLinks {
  /** Slot of the live document before each slot's document, or NONE. */
  before = new Int32Array(16).fill(NONE);
  /** Slots of the live documents after a slot's document (absent: none). */
  readonly after = new Map<number, number[]>();
  readonly #beforeOf = new Map<string, string>();
  readonly #afterOf = new Map<string, Set<string>>();

  /** Whether any document names one before it (a space without sessions skips context work). */
  get empty(): boolean {
    return this.#beforeOf.size === 0;
  }

  grow(capacity: number): void {
    if (capacity <= this.before.length) return;
    const before = new Int32Array(capacity).fill(NONE);
    before.set(this.before);
    this.before = before;
  }

  /** `id` was added at `slot`, after `beforeId` if given; `slotOf` finds live documents' slots. */
  added(id: string, slot: number, beforeId: string | undefined, slotOf: (id: string) => number | undefined): void {
    this.before[slot] = NONE;
    if (beforeId !== undefined && beforeId !== id) {
      this.#beforeOf.set(id, beforeId);
      let later = this.#afterOf.get(beforeId);
      if (!later) this.#afterOf.set(beforeId, (later = new Set()));
      later.add(id);
      const previous = slotOf(beforeId);
      if (previous !== undefined) this.#link(previous, slot);
    }
    for (const next of this.#afterOf.get(id) ?? []) {
      const nextSlot = slotOf(next);
      if (nextSlot !== undefined) this.#link(slot, nextSlot);
    }
  }

  /** `id`, at `slot`, was removed: its slot links go; its id links stay for a re-add, but its own naming goes. */
  removed(id: string, slot: number): void {
    const previous = this.before[slot];
    if (previous !== NONE) this.#unlinkAfter(previous, slot);
    for (const next of this.after.get(slot) ?? []) this.before[next] = NONE;
    this.after.delete(slot);
    this.before[slot] = NONE;
    const beforeId = this.#beforeOf.get(id);
    if (beforeId === undefined) return;
    this.#beforeOf.delete(id);
    const later = this.#afterOf.get(beforeId);
    later?.delete(id);
    if (later?.size === 0) this.#afterOf.delete(beforeId);
  }

  /** After slots were renumbered (compaction, loading): the slot links again, from the id links. */
  relink(ids: readonly (string | undefined)[], slotOf: (id: string) => number | undefined): void {
    this.before = new Int32Array(Math.max(16, ids.length, this.before.length)).fill(NONE);
    this.after.clear();
    for (const [id, beforeId] of this.#beforeOf) {
      const slot = slotOf(id);
      const previous = slotOf(beforeId);
      if (slot !== undefined && previous !== undefined) this.#link(previous, slot);
    }
  }

  /** The id of the document before `id`, as named when it was added. */
  beforeId(id: string): string | undefined {
    return this.#beforeOf.get(id);
  }

  #link(previous: number, next: number): void {
    this.before[next] = previous;
    const later = this.after.get(previous);
    if (!later) this.after.set(previous, [next]);
    else if (!later.includes(next)) later.push(next);
  }

  #unlinkAfter(previous: number, next: number): void {
    const later = this.after.get(previous);
    if (!later) return;
    const at = later.indexOf(next);
    if (at >= 0) later.splice(at, 1);
    if (later.length === 0) this.after.delete(previous);
  }
}

/**
 * Calls `visit(slot, share)` for every document whose context holds `slot`'s words: `slot` itself
 * (share 1), the documents just before and after it (`near`) and those two away (`far`). A turn's
 * neighbourhood is symmetric, so these are also the documents whose words a search reads into
 * `slot`'s context.
 */
export function forEachInContext(links: TurnLinks, slot: number, near: number, far: number, visit: (slot: number, share: number) => void): void {
  visit(slot, 1);
  const previous = links.before[slot];
  if (previous !== NONE) {
    visit(previous, near);
    const twoBefore = links.before[previous];
    if (twoBefore !== NONE && twoBefore !== slot) visit(twoBefore, far);
  }
  const later = links.after.get(slot);
  if (later === undefined) return;
  for (const next of later) {
    visit(next, near);
    for (const twoAfter of links.after.get(next) ?? []) if (twoAfter !== slot) visit(twoAfter, far);
  }
}
