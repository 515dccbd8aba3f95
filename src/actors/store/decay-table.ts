import type { MemoryRecord } from '../../cmp/types.js';
import { curveAt, curveInputs, isPruned, tickMomentAfter } from './decay.js';

// A store's decay table for one space: the few numbers closed-form decay needs per memory record, in
// typed arrays, so that a decay tick is arithmetic over them instead of parsing, rewriting and
// re-serialising every record (issue 4: JSON and LevelDB batch preparation were most of a tick).
//
// A tick changes one thing per record: its tick clock (`last_decay_tick`, from which `score`,
// `noise_level` and `emotional_anchor` follow in closed form; `updated_at` becomes the tick's time).
// So records keep their JSON as of their last real write, and the table holds an *overlay* for those a
// tick has moved since: (tick clock, tick time). Reads apply the overlay (events.ts `decayedRecord`, the
// same function a materialising tick used), writes start from the overlaid state and clear it.
//
// Overlays are persisted in one value per space (the checkpoint, `encodeCheckpoint`), rewritten by
// each tick in the batch that deletes its pruned records. Each entry carries a fingerprint of the
// record JSON it overlays: a record written after the checkpoint no longer matches and is read as
// written. So a crash loses nothing acknowledged and a half-written tick does not exist: the
// checkpoint and the deletions land together or not at all, and a lost tick recomputes identically.

/** What a tick left on a record whose JSON it did not rewrite. */
export interface Overlay {
  /** The record's tick clock (its `last_decay_tick`), ms since the epoch. */
  lastTickMs: number;
  /** When the tick ran (the record's `updated_at`), ms since the epoch. */
  tickAtMs: number;
}

export interface CheckpointEntry extends Overlay {
  /** `fingerprint` of the record JSON the overlay applies to. */
  fp: number;
}

/** What one tick decided, before it is written (see `DecayTable.tick` and `commit`). */
export interface TickPlan {
  nowMs: number;
  /** Slots evaluated and their records' ids, their new tick clock and score (NaN score: pruned). */
  slots: Int32Array;
  ids: string[];
  moments: Float64Array;
  scores: Float64Array;
  pruned: string[];
}

const INITIAL_CAPACITY = 1024;
/**
 * Records per step of a tick: about a millisecond of work, then the worker may answer a read (issue 4:
 * 8,192 made steps of 10–20 ms on a loaded 2-core machine, and a recall waits for the slowest store).
 */
export const STEP = 2048;

export class DecayTable {
  readonly #slots = new Map<string, number>();
  #ids: (string | undefined)[] = [];
  readonly #free: number[] = [];
  #capacity = 0;
  #anchorScore = new Float64Array(0);
  #anchorAt = new Float64Array(0);
  #stability = new Float64Array(0);
  #exponent = new Float64Array(0);
  #emod = new Float64Array(0);
  /** The effective tick clock: the overlay's, else the JSON's `last_decay_tick`. */
  #lastTick = new Float64Array(0);
  /** The record's current score as reads show it (the aggregates count this one). */
  #score = new Float64Array(0);
  /** The overlay's tick time; NaN when the JSON is current. */
  #tickAt = new Float64Array(0);
  #fp = new Float64Array(0);
  /**
   * Checkpoint entries read at open and not yet matched to a record: they overlay reads until the
   * opening pass has put every record in the table (`complete`).
   */
  #pending: Map<string, CheckpointEntry>;
  #complete = false;
  /**
   * Records removed while the table is not complete: a filling pass reads a snapshot of the partition
   * and must not put them back (the pass may run beside writes, `Partition.fillDecayTable`).
   */
  #removedWhileFilling = new Set<string>();

  constructor(checkpoint: Map<string, CheckpointEntry> = new Map()) {
    this.#pending = checkpoint;
    this.#grow(INITIAL_CAPACITY);
  }

  get size(): number {
    return this.#slots.size;
  }

  /** True once every record of the space is in the table (the opening pass is over). */
  get complete(): boolean {
    return this.#complete;
  }

  markComplete(): void {
    this.#complete = true;
    this.#pending = new Map();
    this.#removedWhileFilling = new Set();
  }

  /**
   * Puts a record as stored (its JSON and that JSON's `fingerprint`). `fromDisk`: read by the opening
   * pass, so a checkpoint overlay made for exactly this JSON applies; otherwise it was just written and
   * its JSON is current.
   */
  set(record: MemoryRecord, fp: number, fromDisk: boolean): void {
    // The table already knows a record from a write or an earlier pass: what is on disk is no newer. A
    // record removed since the pass's snapshot was taken stays out.
    if (fromDisk && (this.#slots.has(record.id) || this.#removedWhileFilling.has(record.id))) return;
    if (!fromDisk) this.#removedWhileFilling.delete(record.id);
    const overlay = fromDisk ? this.#pendingFor(record.id, fp) : undefined;
    this.#pending.delete(record.id);
    let slot = this.#slots.get(record.id);
    if (slot === undefined) {
      slot = this.#free.pop() ?? this.#ids.length;
      if (slot >= this.#capacity) this.#grow(this.#capacity * 2);
      this.#slots.set(record.id, slot);
      this.#ids[slot] = record.id;
    }
    const c = curveInputs(record.fidelity, record.emotion.intensity);
    this.#anchorScore[slot] = c.anchorScore;
    this.#anchorAt[slot] = c.anchorAtMs;
    this.#stability[slot] = c.stabilitySecs;
    this.#exponent[slot] = c.exponent;
    this.#emod[slot] = c.emod;
    this.#fp[slot] = fp;
    if (overlay) {
      this.#lastTick[slot] = overlay.lastTickMs;
      this.#tickAt[slot] = overlay.tickAtMs;
      this.#score[slot] = this.#scoreAt(slot, overlay.lastTickMs);
    } else {
      this.#lastTick[slot] = Date.parse(record.fidelity.last_decay_tick);
      this.#tickAt[slot] = NaN;
      this.#score[slot] = record.fidelity.score;
    }
  }

  remove(id: string): void {
    this.#pending.delete(id);
    if (!this.#complete) this.#removedWhileFilling.add(id);
    const slot = this.#slots.get(id);
    if (slot === undefined) return;
    this.#slots.delete(id);
    this.#ids[slot] = undefined;
    this.#free.push(slot);
  }

  /** The overlay of a record as stored with fingerprint `fp` (needed only before the table is complete). */
  overlayOf(id: string, fp?: () => number): Overlay | undefined {
    const slot = this.#slots.get(id);
    if (slot !== undefined) {
      return Number.isNaN(this.#tickAt[slot]) ? undefined : { lastTickMs: this.#lastTick[slot], tickAtMs: this.#tickAt[slot] };
    }
    return this.#pending.size > 0 && fp ? this.#pendingFor(id, fp()) : undefined;
  }

  /** Whether reads still need fingerprints to find checkpoint overlays. */
  get hasPending(): boolean {
    return this.#pending.size > 0;
  }

  #pendingFor(id: string, fp: number): Overlay | undefined {
    const entry = this.#pending.get(id);
    return entry && entry.fp === fp ? entry : undefined;
  }

  #scoreAt(slot: number, ms: number): number {
    return curveAt(this.#anchorScore[slot], this.#anchorAt[slot], this.#stability[slot], this.#exponent[slot], this.#emod[slot], ms);
  }

  /**
   * Evaluates every record at its tick moment (`tickMomentAfter`: now, or the duration past its own
   * clock) and decides what is pruned (spec §4.2). Changes nothing: `commit` applies the plan once its
   * writes are durable. Yields between steps so reads are served meanwhile.
   */
  async tick(nowMs: number, tickDurationSecs: number, pruneThreshold: number, pause: () => Promise<void>): Promise<TickPlan> {
    const slots = Int32Array.from(this.#slots.values());
    const ids = [...this.#slots.keys()];
    const moments = new Float64Array(slots.length);
    const scores = new Float64Array(slots.length);
    const pruned: string[] = [];
    for (let from = 0; from < slots.length; from += STEP) {
      if (from > 0) await pause();
      const to = Math.min(slots.length, from + STEP);
      for (let i = from; i < to; i++) {
        const slot = slots[i];
        const moment = tickMomentAfter(this.#lastTick[slot], nowMs, tickDurationSecs);
        const score = this.#scoreAt(slot, moment);
        moments[i] = moment;
        if (isPruned(score, pruneThreshold)) {
          scores[i] = NaN;
          pruned.push(ids[i]);
        } else {
          scores[i] = score;
        }
      }
    }
    return { nowMs, slots, ids, moments, scores, pruned };
  }

  /**
   * The checkpoint after `plan`: every record a tick has moved and not rewritten since, with the
   * fingerprint of its JSON (binary, versioned: `encodeCheckpoint`). Its ids start with the plan's
   * ids in order (a pruned one's entry is blank). Yields between steps like `tick`.
   */
  async checkpointAfter(plan: TickPlan, pause: () => Promise<void>): Promise<Buffer> {
    const planned = new Uint8Array(this.#capacity);
    for (let i = 0; i < plan.slots.length; i++) planned[plan.slots[i]] = 1;
    // Overlays the plan does not cover (records are added to the table only by writes, which clear them,
    // so normally none): kept as they are.
    const extra: string[] = [];
    for (const [id, slot] of this.#slots) if (!planned[slot] && !Number.isNaN(this.#tickAt[slot])) extra.push(id);
    const count = plan.ids.length + extra.length;
    const columns = new Float64Array(3 * count);
    for (let i = 0; i < plan.slots.length; i++) {
      const kept = !Number.isNaN(plan.scores[i]);
      columns[i] = kept ? this.#fp[plan.slots[i]] : NaN;
      columns[count + i] = kept ? plan.moments[i] : NaN;
      columns[2 * count + i] = kept ? plan.nowMs : NaN;
    }
    extra.forEach((id, index) => {
      const slot = this.#slots.get(id)!;
      const at = plan.ids.length + index;
      columns[at] = this.#fp[slot];
      columns[count + at] = this.#lastTick[slot];
      columns[2 * count + at] = this.#tickAt[slot];
    });
    return encodeCheckpoint(count, columns, await jsonOfStrings(extra.length === 0 ? plan.ids : [...plan.ids, ...extra], pause));
  }

  /** Applies a written plan. Returns the sum of score changes of the records kept (for the aggregates). */
  commit(plan: TickPlan): number {
    let delta = 0;
    const { slots, scores, moments, nowMs } = plan;
    for (let index = 0; index < slots.length; index++) {
      const slot = slots[index];
      const score = scores[index];
      if (Number.isNaN(score) || this.#ids[slot] === undefined) continue;
      delta += score - this.#score[slot];
      this.#score[slot] = score;
      this.#lastTick[slot] = moments[index];
      this.#tickAt[slot] = nowMs;
    }
    for (const id of plan.pruned) this.remove(id);
    return delta;
  }

  #grow(capacity: number): void {
    const grow = (old: Float64Array) => {
      const next = new Float64Array(capacity);
      next.set(old);
      return next;
    };
    this.#anchorScore = grow(this.#anchorScore);
    this.#anchorAt = grow(this.#anchorAt);
    this.#stability = grow(this.#stability);
    this.#exponent = grow(this.#exponent);
    this.#emod = grow(this.#emod);
    this.#lastTick = grow(this.#lastTick);
    this.#score = grow(this.#score);
    this.#tickAt = grow(this.#tickAt);
    this.#fp = grow(this.#fp);
    this.#capacity = capacity;
  }
}

/**
 * A 52-bit fingerprint of a record's JSON (two 32-bit FNV-1a lanes), telling whether a checkpoint entry
 * was made for the JSON now stored. Not a security measure: it detects rewrites, which always change
 * the text (a new version, time or state), and a collision would need the same id too.
 */
export function fingerprint(text: string): number {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    a = Math.imul(a ^ code, 0x01000193);
    b = Math.imul(b ^ code, 0x5bd1e995);
  }
  return (a >>> 0) * 0x100000 + ((b >>> 12) & 0xfffff);
}

// Checkpoint value, columns for speed (a tick writes one entry per record):
//   "CDT1" ‖ u32 count ‖ f64[count] fingerprints ‖ f64[count] tick clocks ‖ f64[count] tick times ‖ JSON array of the ids
// little endian. A value in another format is ignored: the records' JSON then stands, as if the ticks
// had been lost (they recompute).
const CHECKPOINT_MAGIC = Buffer.from('CDT1', 'ascii');
const HEADER = 8;

/**
 * The UTF-8 JSON of an array of strings, encoded a step at a time: a tick's ids run to megabytes, and
 * encoding them in one piece held the worker for milliseconds.
 */
async function jsonOfStrings(items: string[], pause: () => Promise<void>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let from = 0; from < items.length; from += STEP) {
    if (from > 0) await pause();
    const json = JSON.stringify(items.slice(from, from + STEP));
    parts.push(Buffer.from(from === 0 ? json.slice(0, -1) : `,${json.slice(1, -1)}`, 'utf8'));
  }
  parts.push(Buffer.from(items.length === 0 ? '[]' : ']', 'utf8'));
  return Buffer.concat(parts);
}

/** `columns`: fingerprints, then tick clocks, then tick times, `count` of each; `idsJson`: the ids, a UTF-8 JSON array. */
export function encodeCheckpoint(count: number, columns: Float64Array, idsJson: Uint8Array): Buffer {
  const header = Buffer.alloc(HEADER);
  CHECKPOINT_MAGIC.copy(header, 0);
  header.writeUInt32LE(count, 4);
  const numbers = Buffer.from(columns.buffer, columns.byteOffset, 3 * count * 8);
  return Buffer.concat([header, numbers, idsJson]);
}

export function decodeCheckpoint(data: Buffer): Map<string, CheckpointEntry> {
  const entries = new Map<string, CheckpointEntry>();
  if (data.length < HEADER || !CHECKPOINT_MAGIC.equals(data.subarray(0, 4))) return entries;
  const count = data.readUInt32LE(4);
  const idsAt = HEADER + 3 * count * 8;
  if (data.length < idsAt) return entries;
  // Copied out: the value's bytes need not be 8-byte aligned.
  const columns = new Float64Array(data.buffer.slice(data.byteOffset + HEADER, data.byteOffset + idsAt));
  let ids: unknown;
  try {
    ids = JSON.parse(data.toString('utf8', idsAt));
  } catch {
    return entries;
  }
  if (!Array.isArray(ids) || ids.length !== count) return entries;
  ids.forEach((id, index) => {
    // A blank entry: the record was pruned by that tick.
    if (Number.isNaN(columns[2 * count + index])) return;
    entries.set(String(id), { fp: columns[index], lastTickMs: columns[count + index], tickAtMs: columns[2 * count + index] });
  });
  return entries;
}
