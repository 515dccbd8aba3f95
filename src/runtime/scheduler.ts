// Repeating background work (decay and dream ticks) is started through a Scheduler, so time is
// injected: the runtime uses timers, a test fires the work by hand instead of sleeping until a timer
// would have (issue 18, move 5; the shape of xstate's SimulatedClock).

export interface Scheduler {
  /** Calls `run` every `intervalMs` milliseconds until the returned function is called. */
  every(intervalMs: number, run: () => void): () => void;
}

/** Real timers; they do not keep the process alive. */
export const timerScheduler: Scheduler = {
  every(intervalMs, run) {
    const timer = setInterval(run, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  },
};
