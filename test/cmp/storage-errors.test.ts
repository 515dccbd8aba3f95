import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CmpError, storageError } from '../../src/cmp/errors.js';
import { ERROR_TABLE } from '../../src/cmp/error-table.js';

// Issue 14, defect 7: a full or failing disk answered a bare INTERNAL_ERROR "An internal error occurred".

/** A real ENOSPC: /dev/full refuses every write, for any user. */
function enospc(): Error {
  try {
    writeFileSync('/dev/full', 'x');
  } catch (error) {
    return error as Error;
  }
  throw new Error('/dev/full accepted a write');
}

/** classic-level's shape for a LevelDB IOError met while opening: the errno is only text, two causes deep. */
function levelOpenError(text: string): Error {
  const io = Object.assign(new Error(`IO error: /data/episodic/000005.log: ${text}`), { code: 'LEVEL_IO_ERROR' });
  return Object.assign(new Error('Database failed to open', { cause: io }), { code: 'LEVEL_DATABASE_NOT_OPEN' });
}

describe('storage errors', () => {
  it('a full disk is STORAGE_FULL, naming the errno but no path', () => {
    const error = CmpError.from(enospc());
    expect(error).toMatchObject({ code: 'STORAGE_FULL', message: "The server's storage is full: no space left on device (ENOSPC)" });
    expect(CmpError.from(levelOpenError('No space left on device'))).toMatchObject({ code: 'STORAGE_FULL' });
    expect(CmpError.from(Object.assign(new Error('EDQUOT: disk quota exceeded, write'), { code: 'EDQUOT' }))).toMatchObject({ code: 'STORAGE_FULL' });
  });

  it('a read-only or failing disk is STORAGE_ERROR', () => {
    expect(CmpError.from(levelOpenError('Read-only file system'))).toMatchObject({
      code: 'STORAGE_ERROR',
      message: "The server's storage failed: read-only file system (EROFS)",
    });
    expect(CmpError.from(levelOpenError('Input/output error'))).toMatchObject({ code: 'STORAGE_ERROR', message: expect.stringContaining('(EIO)') });
    expect(CmpError.from(levelOpenError('something LevelDB alone knows'))).toMatchObject({ code: 'STORAGE_ERROR', message: "The server's storage failed: I/O error" });
  });

  it('anything else stays INTERNAL_ERROR', () => {
    expect(storageError(new TypeError('x is undefined'))).toBeUndefined();
    expect(CmpError.from(Object.assign(new Error('ENOENT: no such file or directory'), { code: 'ENOENT' })).code).toBe('INTERNAL_ERROR');
  });

  it('maps to 507 / RESOURCE_EXHAUSTED and 500 / INTERNAL', () => {
    expect(ERROR_TABLE.STORAGE_FULL).toMatchObject({ http: 507, grpc: 'ResourceExhausted' });
    expect(ERROR_TABLE.STORAGE_ERROR).toMatchObject({ http: 500, grpc: 'Internal' });
  });
});
