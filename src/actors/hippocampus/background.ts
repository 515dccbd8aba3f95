import type { RequestBase } from '../../cmp/operations.js';
import type { Scheduler } from '../../runtime/scheduler.js';
import type { DreamPlanRequest } from './dream.js';

// Background work (spec §4.2, §4.10): every interval, a decay tick at the present moment (duration 0:
// real time has passed) or a dream tick with the reference's background settings, over every space.
// When it runs is the hippocampus machine's (machine.ts: an invoked actor per job, timed by an injected
// Scheduler); what one run does is here. The ticks go through the operations the runtime gives
// (`ticks`: the operations table's calls, audited and in cluster mode routed), so the audit records
// them like any other caller's.

export type BackgroundJob = 'decay' | 'dream';

/** How a job was started: its interval, the scheduler that times it, where its failures are logged. */
export interface BackgroundSettings {
  intervalMs: number;
  scheduler: Scheduler;
  log: (line: string) => void;
}

/** The operations a background job runs, as callers see them. */
export interface BackgroundTicks {
  decayTick(request: RequestBase & { tick_duration_seconds: number }): Promise<unknown>;
  dreamTick(request: RequestBase & DreamPlanRequest): Promise<unknown>;
}

/** What a background dream asks for: the reference's background settings. */
const BACKGROUND_DREAM: DreamPlanRequest = {
  session_id: null,
  dry_run: false,
  max_groups: 50,
  include_private_scratch: false,
  include_sealed: false,
  promote_semantic: true,
  secrecy_levels: null,
};

/** One run of `job` over `spaces`, one space after another. */
export async function runBackgroundJob(ticks: BackgroundTicks, spaces: string[], job: BackgroundJob): Promise<void> {
  for (const space of spaces) {
    if (job === 'decay') await ticks.decayTick({ space, tick_duration_seconds: 0 });
    else await ticks.dreamTick({ space, ...BACKGROUND_DREAM });
  }
}
