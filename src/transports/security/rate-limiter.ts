// A token bucket per client (reference spec §6.1): each client's bucket holds up to `burst` tokens and
// refills at `requestsPerSecond`; a request takes one token or is refused with the whole seconds until
// the next token, plus one. One client emptying its bucket touches no other bucket, so a flood from one
// address cannot slow anyone else down. Time is injected (tests advance a clock; nothing sleeps).

export interface RateLimitOptions {
  /** Refill rate. Requests/second, > 0. */
  requestsPerSecond: number;
  /** Bucket size: requests a client may make at once after being idle. Requests, >= 1. */
  burst: number;
  /** Milliseconds clock. Default `Date.now`. */
  now?: () => number;
  /** How often full buckets are dropped. Milliseconds, default 60 000 (spec §6.1). */
  pruneEveryMs?: number;
}

export type Admission = { allowed: true } | { allowed: false; retryAfterSecs: number };

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date (ms). */
  at: number;
}

export class RateLimiter {
  readonly #rate: number;
  readonly #burst: number;
  readonly #now: () => number;
  readonly #pruneEveryMs: number;
  readonly #buckets = new Map<string, Bucket>();
  #prunedAt: number;

  constructor({ requestsPerSecond, burst, now = Date.now, pruneEveryMs = 60_000 }: RateLimitOptions) {
    this.#rate = requestsPerSecond;
    this.#burst = burst;
    this.#now = now;
    this.#pruneEveryMs = pruneEveryMs;
    this.#prunedAt = now();
  }

  /** Clients with a bucket in memory (a full bucket is forgotten at the next prune). */
  get size(): number {
    return this.#buckets.size;
  }

  admit(client: string): Admission {
    const now = this.#now();
    if (now - this.#prunedAt >= this.#pruneEveryMs) this.prune(now);
    let bucket = this.#buckets.get(client);
    if (bucket === undefined) {
      bucket = { tokens: this.#burst, at: now };
      this.#buckets.set(client, bucket);
    } else {
      bucket.tokens = Math.min(this.#burst, bucket.tokens + (Math.max(0, now - bucket.at) / 1000) * this.#rate);
      bucket.at = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    const waitSecs = (1 - bucket.tokens) / this.#rate;
    return { allowed: false, retryAfterSecs: Math.floor(waitSecs) + 1 };
  }

  /** Drops buckets that have refilled completely: forgetting them changes nothing a client can see. */
  prune(now = this.#now()): void {
    this.#prunedAt = now;
    const refillMs = (this.#burst / this.#rate) * 1000;
    for (const [client, bucket] of this.#buckets) {
      if (now - bucket.at >= refillMs) this.#buckets.delete(client);
    }
  }
}
