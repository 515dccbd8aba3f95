// What went wrong with the disk, in one phrase: the errno and its meaning. Node's fs errors carry the
// errno as `code`; LevelDB's carry only the C library's text inside an "IO error: <path>: <text>"
// message (classic-level code LEVEL_IO_ERROR), so the text is recognised too. Either may sit deep in
// a `cause` chain (abstract-level wraps open errors in LEVEL_DATABASE_NOT_OPEN). Pure: no I/O here.

const ERRNO_TEXT = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EIO: 'input/output error',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
} as const satisfies Record<string, string>;
type KnownErrno = keyof typeof ERRNO_TEXT;

export interface StorageCause {
  /** e.g. `ENOSPC`; undefined when no errno could be recognised. */
  errno: string | undefined;
  /** e.g. `no space left on device (ENOSPC)`, else the innermost error's message. */
  text: string;
}

function chain(reason: unknown): unknown[] {
  const links: unknown[] = [];
  for (let link = reason; link !== undefined && link !== null && links.length < 10; link = (link as { cause?: unknown }).cause) {
    links.push(link);
  }
  return links;
}

function errnoOf(link: unknown): string | undefined {
  const code = (link as { code?: unknown }).code;
  if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) return code;
  const message = String((link as { message?: unknown }).message ?? '').toLowerCase();
  return (Object.keys(ERRNO_TEXT) as KnownErrno[]).find((errno) => message.includes(ERRNO_TEXT[errno]));
}

export function storageCause(reason: unknown): StorageCause {
  const innermostFirst = chain(reason).reverse();
  for (const link of innermostFirst) {
    const errno = errnoOf(link);
    if (errno !== undefined) return { errno, text: `${ERRNO_TEXT[errno as KnownErrno] ?? String((link as Error).message)} (${errno})` };
  }
  const innermost = innermostFirst[0];
  return { errno: undefined, text: innermost instanceof Error ? innermost.message : String(innermost) };
}
