import { createHash, timingSafeEqual } from 'node:crypto';
import { CmpError } from '../../cmp/errors.js';

// Bearer API keys (reference spec §6.5). Keys are compared as SHA-256 digests with timingSafeEqual, so
// every comparison costs the same whatever the lengths, and every configured key is compared on every
// request (no early exit), so timing tells neither which key nor how much of one matched.

const BEARER = 'Bearer ';

/** What the client sees; both messages are the reference's (spec §6.5, §6.2). */
export const AUTH_MESSAGES = {
  missingHeader: 'Missing Authorization header. Expected: Authorization: Bearer <api-key>',
  missingMetadata: 'Missing authorization metadata',
  invalid: 'Invalid API key',
} as const;

export interface ApiKeys {
  /** Number of configured keys (the keys themselves are never exposed, logged or printed). */
  readonly count: number;
  /**
   * Throws UNAUTHORIZED unless `authorization` is exactly `Bearer <a configured key>` (case-sensitive
   * prefix). `missing` is the message when there is no such header (REST and gRPC word it differently).
   */
  check(authorization: string | null | undefined, missing?: string): void;
}

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

export function apiKeys(keys: readonly string[]): ApiKeys {
  const digests = keys.map(digest);
  return {
    count: digests.length,
    check(authorization, missing = AUTH_MESSAGES.missingHeader) {
      if (authorization === null || authorization === undefined || authorization === '') {
        throw new CmpError('UNAUTHORIZED', missing);
      }
      if (!authorization.startsWith(BEARER)) throw new CmpError('UNAUTHORIZED', AUTH_MESSAGES.invalid);
      const presented = digest(authorization.slice(BEARER.length));
      let matched = false;
      for (const candidate of digests) {
        // The comparison comes first so `||` never skips it: every key is compared.
        matched = timingSafeEqual(candidate, presented) || matched;
      }
      if (!matched) throw new CmpError('UNAUTHORIZED', AUTH_MESSAGES.invalid);
    },
  };
}

/** Auth switched off (`auth.enabled = false`): configured keys are ignored (spec §6.5). */
export const NO_AUTH: ApiKeys = { count: 0, check() {} };
