import { createReadStream, createWriteStream, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { storageCause } from '../../../cmp/storage-cause.js';
import type { CliContext } from '../context.js';
import { fail } from '../fail.js';
import { commaList } from '../options.js';
import { progress } from '../progress.js';

// The archive commands: export to and import from a CMA file (spec §7), with progress on stderr.

/** `export`: a CMA archive written whole, then renamed into place. */
export function exportArchiveCommand(program: Command, { run }: CliContext): void {
  program
    .command('export')
    .description('Write a CMA archive (spec §7) of the memories, optionally encrypted.')
    .option('--output <path>', 'archive file (written whole, then renamed into place)', './backup.cma')
    .option('--format <format>', 'cma (jsonl is an alias)', 'cma')
    .option('--stores <stores>', 'comma-separated stores (default: all)', commaList)
    .option('--include-raw-journal', 'include the raw journal (a version 2.0 bundle)', false)
    .option('--all-spaces', 'every memory space, each record keeping its space', false)
    .option('--encrypt', 'encrypt with a passphrase (Argon2id + ChaCha20-Poly1305)', false)
    .option('--encryption-key <passphrase>', 'the passphrase (prefer --encryption-key-stdin)')
    .option('--encryption-key-stdin', 'read the passphrase from stdin', false)
    .action(
      async (options: { output: string; format: string; stores?: string[]; includeRawJournal: boolean; allSpaces: boolean; encrypt: boolean; encryptionKey?: string; encryptionKeyStdin: boolean }) => {
        const unwritable = whyUnwritable(options.output);
        if (unwritable !== undefined) fail(new InvalidArgumentError(`cannot write ${options.output}: ${unwritable}`));
        const key = options.encryptionKeyStdin ? await passphraseFromStdin() : options.encryptionKey;
        await run(
          async (endpoint, space) => {
            const partial = `${options.output}.partial-${process.pid}`;
            const meter = progress('export');
            const file = createWriteStream(partial, { mode: 0o600 });
            const counter = meter.counter();
            const written = pipeline(counter, file);
            // A file that cannot be written ends the export; its error (naming the file) is the one to report.
            const fileError = written.then(
              () => undefined,
              (error: unknown) => error,
            );
            try {
              const metadata = await endpoint.exportArchive(
                {
                  space,
                  format: options.format,
                  include_raw_journal: options.includeRawJournal,
                  all_spaces: options.allSpaces,
                  encrypt: options.encrypt,
                  ...(options.stores ? { stores: options.stores } : {}),
                  ...(key === undefined ? {} : { encryption_key: key }),
                },
                counter,
              );
              await written;
              renameSync(partial, options.output);
              meter.done(`wrote ${options.output}`);
              return metadata;
            } catch (error) {
              const cause = await fileError;
              rmSync(partial, { force: true });
              throw cause ?? error;
            }
          },
          (metadata) => [`Exported ${metadata.record_count} records to ${options.output} (${metadata.size_bytes} bytes, checksum ${metadata.checksum})`],
        )();
      },
    );
}

/** `import <path>`: a CMA archive, verified whole before anything is written. */
export function importArchiveCommand(program: Command, { run }: CliContext): void {
  program
    .command('import <path>')
    .description('Import a CMA archive; nothing is written unless the whole archive verifies.')
    .option('--strategy <strategy>', 'merge | replace', 'merge')
    .option('--conflict-resolution <rule>', 'keep_newer | keep_existing | keep_imported', 'keep_newer')
    .option('--all-spaces', 'put each record into the space it names', false)
    .option('--decryption-key <passphrase>', 'the passphrase of an encrypted archive (prefer --decryption-key-stdin)')
    .option('--decryption-key-stdin', 'read the passphrase from stdin', false)
    .action(async (path: string, options: { strategy: string; conflictResolution: string; allSpaces: boolean; decryptionKey?: string; decryptionKeyStdin: boolean }) => {
      const key = options.decryptionKeyStdin ? await passphraseFromStdin() : options.decryptionKey;
      let total: number;
      try {
        total = statSync(path).size;
      } catch (error) {
        fail(new InvalidArgumentError(`cannot read ${path}: ${storageCause(error).text}`));
      }
      // A directory stats fine but fails at the first read, after the engine has started.
      if (statSync(path).isDirectory()) fail(new InvalidArgumentError(`cannot read ${path}: is a directory (EISDIR)`));
      await run(
        async (endpoint, space) => {
          const meter = progress('import', total);
          const result = await endpoint.importArchive(
            {
              space,
              archive_id: basename(path),
              strategy: options.strategy,
              conflict_resolution: options.conflictResolution,
              all_spaces: options.allSpaces,
              ...(key === undefined ? {} : { decryption_key: key }),
            },
            readArchive(path, meter.counter()),
          );
          meter.done(`read ${path}`);
          // Vectors follow the write (issue 17): say how many are still owed and where they get made.
          const stats = await endpoint.call('stats', space === undefined ? {} : { space }).catch(() => undefined);
          const waiting = Number(stats?.vector_backlog ?? 0);
          if (waiting > 0) {
            const where = endpoint.kind === 'remote' ? 'the server embeds them in the background' : 'they are embedded when the engine next runs';
            console.error(`embedding: ${waiting} imported records wait for their vector (${String(stats?.embedder)}); ${where}, recall finds them by text meanwhile`);
          }
          return result;
        },
        (result) => [`Imported ${result.records_imported} records from ${path}`],
        { createsDataDir: true },
      )();
    });
}

/** Why the export cannot write `output`, checked before any work: it is a directory, or its folder is missing. */
function whyUnwritable(output: string): string | undefined {
  if (statSync(output, { throwIfNoEntry: false })?.isDirectory()) return 'is a directory (EISDIR)';
  const folder = dirname(resolve(output));
  const stats = statSync(folder, { throwIfNoEntry: false });
  if (stats === undefined) return `${folder} does not exist (ENOENT)`;
  if (!stats.isDirectory()) return `${folder} is not a directory (ENOTDIR)`;
  return undefined;
}

/** The archive through `counter`; a read error (e.g. EACCES) ends the stream with that error, not a crash. */
function readArchive(path: string, counter: Transform): Transform {
  pipeline(createReadStream(path), counter).catch(() => {}); // pipeline destroys `counter` with the error
  return counter;
}

/** A passphrase piped on stdin, without the line break `echo` adds; it is otherwise used as given. */
async function passphraseFromStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}
