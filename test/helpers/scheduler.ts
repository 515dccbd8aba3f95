import type { Scheduler } from '../../src/runtime/scheduler.js';

// A Scheduler the test drives (issue 18, move 5): nothing runs until `fire()`, so a background job is
// tested by firing it, never by sleeping through its interval.

export class ManualScheduler implements Scheduler {
  readonly #tasks = new Set<{ intervalMs: number; run: () => void }>();

  every(intervalMs: number, run: () => void): () => void {
    const task = { intervalMs, run };
    this.#tasks.add(task);
    return () => this.#tasks.delete(task);
  }

  /** The intervals of the work started and not stopped, in milliseconds. */
  get intervals(): number[] {
    return [...this.#tasks].map((task) => task.intervalMs);
  }

  /** Runs every started task once, as if its interval had passed. */
  fire(): void {
    for (const task of [...this.#tasks]) task.run();
  }
}
