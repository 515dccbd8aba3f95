import { constants, existsSync, lstatSync, mkdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { invalid } from './errors.js';

// Where the `export` tool may write, and writing there safely: a new file only (create-new, no symlink
// followed), removed again when the export fails.

/**
 * Where `export` may write. `caller`: the MCP process is the user's own (stdio), so paths resolve
 * against its working directory as the reference does. `folder`: the client is remote (Streamable
 * HTTP, issue 14 defect 4), so it names only a file, written inside this folder of the data directory.
 */
export type ExportPlace = { kind: 'caller' } | { kind: 'folder'; directory: string };

/**
 * The export path rules of the reference (spec §6.3): not blank, no `..`, names a file whose directory
 * exists; relative paths resolve against this process's directory. Over HTTP only a plain file name,
 * placed in the export folder. Create-new happens at open.
 */
export function exportTarget(outputPath: string, place: ExportPlace): string {
  if (outputPath.trim() === '') throw invalid('output_path must not be empty');
  if (outputPath.split(/[\\/]/).includes('..')) throw invalid("output_path must not contain '..'");
  if (outputPath.endsWith('/') || outputPath.endsWith('\\')) throw invalid('output_path must name a file');
  if (place.kind === 'folder') {
    if (isAbsolute(outputPath) || /[\\/]/.test(outputPath) || outputPath.startsWith('.')) {
      throw invalid(`output_path: over HTTP, name a file only (e.g. "backup.cma"); it is written to ${place.directory}`);
    }
    mkdirSync(place.directory, { recursive: true, mode: 0o700 });
  }
  const target = place.kind === 'folder' ? join(place.directory, outputPath) : resolve(outputPath);
  let parent: string;
  try {
    parent = realpathSync(dirname(target));
  } catch {
    throw invalid(`output_path: directory ${dirname(target)} does not exist`);
  }
  const resolved = join(parent, basename(target));
  if (existsSync(resolved) || lstatExists(resolved)) throw invalid(`output_path: ${resolved} already exists; choose a new file`);
  return resolved;
}

function lstatExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Creates `target` (never overwriting) and runs `write` on a stream into it; the file is removed when
 * `write` or the file fails. Answers what `write` answered and the file's size.
 */
export async function writeExportFile<T>(target: string, write: (out: Writable) => Promise<T>): Promise<{ result: T; bytes: number }> {
  let file: FileHandle;
  try {
    // create-new: an existing file (or a symlink planted meanwhile) is never overwritten
    file = await open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  } catch (error) {
    throw invalid(`output_path: cannot create ${target}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const out = file.createWriteStream();
  const written = finished(out);
  try {
    const result = await write(out);
    await written;
    return { result, bytes: statSync(target).size };
  } catch (error) {
    out.destroy();
    await written.catch(() => {});
    rmSync(target, { force: true });
    throw error;
  }
}
