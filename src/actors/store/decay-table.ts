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
/** Records per step of a tick's arithmetic: a few milliseconds of work, then the worker may answer a read. */
const STEP = 8192;

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
  }

  /**
   * Puts a record as stored (its JSON and that JSON's `fingerprint`). `fromDisk`: read by the opening
   * pass, so a checkpoint overlay made for exactly this JSON applies; otherwise it was just written and
   * its JSON is current.
   */
  set(record: MemoryRecord, fp: number, fromDisk: boolean): void {
    // The table already knows a record from a write or an earlier pass: what is on disk is no newer.
    if (fromDisk && this.#slots.has(record.id)) return;
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
   * fingerprint of its JSON. Binary, versioned (see `decodeCheckpoint`).
   */
  checkpointAfter(plan: TickPlan): Buffer {
    const planned = new Map<number, number>();
    plan.slots.forEach((slot, index) => planned.set(slot, index));
    const entries: { id: string; fp: number; lastTickMs: number; tickAtMs: number }[] = [];
    for (const [id, slot] of this.#slots) {
      const index = planned.get(slot);
      if (index !== undefined) {
        if (!Number.isNaN(plan.scores[index])) entries.push({ id, fp: this.#fp[slot], lastTickMs: plan.moments[index], tickAtMs: plan.nowMs });
      } else if (!Number.isNaN(this.#tickAt[slot])) {
        entries.push({ id, fp: this.#fp[slot], lastTickMs: this.#lastTick[slot], tickAtMs: this.#tickAt[slot] });
      }
    }
    return encodeCheckpoint(entries);
  }

  /** Applies a written plan. Returns the sum of score changes of the records kept (for the aggregates). */
  commit(plan: TickPlan): number {
    let delta = 0;
    plan.slots.forEach((slot, index) => {
      const score = plan.scores[index];
      if (Number.isNaN(score) || this.#ids[slot] === undefined) return;
      delta += score - this.#score[slot];
      this.#score[slot] = score;
      this.#lastTick[slot] = plan.moments[index];
      this.#tickAt[slot] = plan.nowMs;
    });
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

// Checkpoint value: "CDT1" ‖ u32 count ‖ count × (u16 id length ‖ id UTF-8 ‖ f64 fp ‖ f64 tick clock ‖
// f64 tick time), little endian. A value in another format is ignored (the JSON then stands, as if the
// ticks had been lost: they recompute).
const CHECKPOINT_MAGIC = Buffer.from('CDT1', 'ascii');

export function encodeCheckpoint(entries: { id: string; fp: number; lastTickMs: number; tickAtMs: number }[]): Buffer {
  let size = CHECKPOINT_MAGIC.length + 4;
  const lengths = entries.map((entry) => Buffer.byteLength(entry.id, 'utf8'));
  for (const length of lengths) size += 2 + length + 24;
  const out = Buffer.allocUnsafe(size);
  CHECKPOINT_MAGIC.copy(out, 0);
  out.writeUInt32LE(entries.length, 4);
  let at = 8;
  entries.forEach((entry, index) => {
    out.writeUInt16LE(lengths[index], at);
    at += 2;
    at += out.write(entry.id, at, 'utf8');
    at = out.writeDoubleLE(entry.fp, at);
    at = out.writeDoubleLE(entry.lastTickMs, at);
    at = out.writeDoubleLE(entry.tickAtMs, at);
  });
  return out;
}

export function decodeCheckpoint(data: Buffer): Map<string, CheckpointEntry> {
  const entries = new Map<string, CheckpointEntry>();
  if (data.length < 8 || !CHECKPOINT_MAGIC.equals(data.subarray(0, 4))) return entries;
  const count = data.readUInt32LE(4);
  let at = 8;
  for (let index = 0; index < count && at + 2 <= data.length; index++) {
    const length = data.readUInt16LE(at);
    at += 2;
    if (at + length + 24 > data.length) break;
    const id = data.toString('utf8', at, at + length);
    at += length;
    entries.set(id, { fp: data.readDoubleLE(at), lastTickMs: data.readDoubleLE(at + 8), tickAtMs: data.readDoubleLE(at + 16) });
    at += 24;
  }
  return entries;
}
