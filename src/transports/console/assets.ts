import { readFile } from 'node:fs/promises';
import { BUILT_DIR, bundleConsole, CONSOLE_FILE_TYPES, FROM_SOURCE, type ConsoleFile } from './bundle.js';

// Where the console's files come from: dist/console when the server runs from dist/ and
// `npm run build` wrote it; otherwise (running from source, where dist/console may be stale, or a
// build without it) an in-memory esbuild bundle of src/console/page, made once at the first request.

export interface ConsoleAssets {
  /** The file named `name` (index.html, console.js, console.css), or undefined when there is none. */
  get(name: string): Promise<ConsoleFile | undefined>;
}

export interface ConsoleAssetsOptions {
  /** Use dist/console when present. Default: when running from dist/. */
  preferBuilt?: boolean;
  builtDir?: string;
}

export function consoleAssets(options: ConsoleAssetsOptions = {}): ConsoleAssets {
  const { preferBuilt = !FROM_SOURCE, builtDir = BUILT_DIR } = options;
  let files: Promise<Map<string, ConsoleFile>> | undefined;
  const load = async (): Promise<Map<string, ConsoleFile>> => {
    const built = preferBuilt ? await readBuilt(builtDir) : undefined;
    const list = built ?? (await bundleConsole());
    return new Map(list.map((file) => [file.name, file]));
  };
  return {
    async get(name) {
      files ??= load().catch((error: unknown) => {
        files = undefined; // a failed bundle (e.g. a syntax error while editing) is retried next time
        throw error;
      });
      return (await files).get(name);
    },
  };
}

/** dist/console's files, or undefined when any is missing. */
async function readBuilt(dir: string): Promise<ConsoleFile[] | undefined> {
  try {
    return await Promise.all(Object.entries(CONSOLE_FILE_TYPES).map(async ([name, contentType]) => ({ name, contentType, body: await readFile(`${dir}${name}`) })));
  } catch {
    return undefined;
  }
}
