import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

// The web console's bundle (issue 15): the page's TypeScript with uPlot and Cytoscape.js, bundled by
// esbuild into one script and one stylesheet, plus the HTML shell. `npm run build` writes it to
// dist/console (scripts/build-console.ts); a server running from source, or a build without it,
// bundles the same in memory at the first request (src/transports/console/assets.ts).

/** One file of the console, as served under /console/. */
export interface ConsoleFile {
  /** The file name under /console/, e.g. "console.js". */
  name: string;
  contentType: string;
  body: Uint8Array;
}

/** Running from TypeScript source (tsx, vitest) rather than from dist/. */
export const FROM_SOURCE = /\.[mc]?ts$/.test(fileURLToPath(import.meta.url));

/** The page sources, src/console/page (from dist/transports/console/ that is ../../../src/…). */
export const PAGE_DIR = fileURLToPath(new URL(FROM_SOURCE ? '../../console/page/' : '../../../src/console/page/', import.meta.url));

/** Where `npm run build` writes the console: dist/console. */
export const BUILT_DIR = fileURLToPath(new URL(FROM_SOURCE ? '../../../dist/console/' : '../../console/', import.meta.url));

export const CONSOLE_FILE_TYPES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'console.js': 'text/javascript; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
};

/**
 * Bundles the page from `pageDir`. esbuild is imported here, lazily, so a server that serves a built
 * console never loads it.
 */
export async function bundleConsole(pageDir: string = PAGE_DIR, options: { minify?: boolean } = {}): Promise<ConsoleFile[]> {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: { console: `${pageDir}main.ts` },
    bundle: true,
    write: false,
    outdir: '/console',
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: options.minify ?? true,
    // The libraries' licence notices stay in the bundle that ships them.
    legalComments: 'eof',
    logLevel: 'silent',
  });
  const files: ConsoleFile[] = [{ name: 'index.html', contentType: CONSOLE_FILE_TYPES['index.html']!, body: await readFile(`${pageDir}index.html`) }];
  for (const output of result.outputFiles) {
    const name = output.path.slice(output.path.lastIndexOf('/') + 1);
    files.push({ name, contentType: CONSOLE_FILE_TYPES[name] ?? 'text/plain; charset=utf-8', body: output.contents });
  }
  return files;
}
