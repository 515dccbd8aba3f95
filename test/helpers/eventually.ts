import { waitFor } from './recall.js';

/**
 * Polls `check` until it holds (waitFor for a yes/no probe). The deadline is only a safety net for a
 * slow machine, never an assertion on time.
 */
export async function eventually(check: () => boolean | Promise<boolean>, what = 'condition', deadlineMs = 45_000): Promise<void> {
  await waitFor(async () => ((await check()) ? true : undefined), deadlineMs, what);
}
