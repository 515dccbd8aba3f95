// Test helper: runs `fn` and returns the CmpError it throws; fails the test if it throws nothing or
// something else.
import { isCmpError, type CmpError } from '../../src/cmp/errors.js';

export function cmpErrorOf(fn: () => unknown): CmpError {
  try {
    fn();
  } catch (error) {
    if (isCmpError(error)) return error;
    throw error;
  }
  throw new Error('expected a CmpError, but nothing was thrown');
}
