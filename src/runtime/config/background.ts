// The background jobs' sections: [decay] and [dream] ticks.

import type { z } from 'zod';
import { bool, positive, table } from './fields.js';

export const decaySchema = table({
  /** Run the decay tick in the background. Default true. */
  background_enabled: bool(),
  /**
   * Period of the background decay tick. Seconds, default 3600, range > 0. Decay is closed-form, so this
   * changes pruning latency, not F.
   */
  background_interval_secs: positive(),
});

export const dreamSchema = table({
  /** Run the dream tick in the background. Default true. */
  background_enabled: bool(),
  /** Period of the background dream tick. Seconds, default 86400, range > 0. */
  background_interval_secs: positive(),
});

export const decayDefaults: z.infer<typeof decaySchema> = { background_enabled: true, background_interval_secs: 3600 };
export const dreamDefaults: z.infer<typeof dreamSchema> = { background_enabled: true, background_interval_secs: 86_400 };
