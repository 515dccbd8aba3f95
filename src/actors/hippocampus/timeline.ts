import type { TimeGranularity } from '../../cmp/operations.js';

// Timeline buckets (spec §3.9): minute, hour, day and week are aligned to the Unix epoch (so weeks
// start on Thursday, as in the reference); month is the calendar month in UTC.

const SPAN_MS: Record<Exclude<TimeGranularity, 'month'>, number> = {
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 604_800_000,
};

/** The [start, end) of the bucket holding `ms`. */
export function bucketOf(ms: number, granularity: TimeGranularity): { start: number; end: number } {
  if (granularity === 'month') {
    const date = new Date(ms);
    const start = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
    const end = Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
    return { start, end };
  }
  const span = SPAN_MS[granularity];
  const start = Math.floor(ms / span) * span;
  return { start, end: start + span };
}

/** Groups items by bucket, buckets ascending, items in the given order; empty buckets are left out. */
export function groupIntoBuckets<T>(items: T[], createdMs: (item: T) => number, granularity: TimeGranularity): { start: number; end: number; items: T[] }[] {
  const buckets = new Map<number, { start: number; end: number; items: T[] }>();
  for (const item of items) {
    const bounds = bucketOf(createdMs(item), granularity);
    let bucket = buckets.get(bounds.start);
    if (!bucket) buckets.set(bounds.start, (bucket = { ...bounds, items: [] }));
    bucket.items.push(item);
  }
  return [...buckets.values()].sort((a, b) => a.start - b.start);
}
