import type { RequestBase } from '../../cmp/operations.js';
import { timerScheduler, type Scheduler } from '../../runtime/scheduler.js';
import type { DreamPlanRequest } from './dream.js';

// Background work (spec §4.2, §4.10): every interval, a decay tick at the present moment (duration 0:
// real time has passed) or a dream tick with the reference's background settings, over every space.
// The ticks go through the hippocampus's public operations, not around them, so the audit wrapper
// (src/audit/audited-hippocampus.ts) records background ticks like any other.

export type BackgroundJob = 'decay' | 'dream';

/** The operations a background job runs: the hippocampus, as callers see it. */
export interface BackgroundTicks {
  decayTick(request: RequestBase & { tick_duration_seconds: number }): Promise<unknown>;
  dreamTick(request: RequestBase & DreamPlanRequest): Promise<unknown>;
}

/** What a background dream asks for: the reference's background settings. */
const BACKGROUND_DREAM: DreamPlanRequest = {
  session_id: null, dry_run: false, max_groups: 50, include_private_scratch: false, include_sealed: false,
  promote_semantic: true, secrecy_levels: null,
};

export class BackgroundJobs {
  readonly #ticks: BackgroundTicks;
  readonly #spaces: () => string[];
  readonly #jobs = new Map<BackgroundJob, { stop: () => void; running: boolean }>();

  constructor(ticks: BackgroundTicks, spaces: () => string[]) {
    this.#ticks = ticks;
    this.#spaces = spaces;
  }

  /** A run still going when the next is due is not doubled. Failures are logged, never thrown. */
  start(job: BackgroundJob, intervalMs: number, log: (line: string) => void, scheduler: Scheduler = timerScheduler): void {
    this.stop(job);
    const entry = { running: false, stop: () => {} };
    entry.stop = scheduler.every(intervalMs, () => {
      if (entry.running) return;
      entry.running = true;
      void this.#run(job)
        .catch((error: unknown) => log(`background ${job} failed: ${String(error)}`))
        .finally(() => (entry.running = false));
    });
    this.#jobs.set(job, entry);
  }

  /** Stops `job`, or every job. */
  stop(job?: BackgroundJob): void {
    for (const [name, entry] of this.#jobs) {
      if (job !== undefined && name !== job) continue;
      entry.stop();
      this.#jobs.delete(name);
    }
  }

  enabled(job: BackgroundJob): boolean {
    return this.#jobs.has(job);
  }

  async #run(job: BackgroundJob): Promise<void> {
    for (const space of this.#spaces()) {
      if (job === 'decay') await this.#ticks.decayTick({ space, tick_duration_seconds: 0 });
      else await this.#ticks.dreamTick({ space, ...BACKGROUND_DREAM });
    }
  }
}
