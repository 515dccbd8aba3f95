import { mkdir, rm, writeFile } from 'node:fs/promises';
import { BUILT_DIR, bundleConsole } from '../src/transports/console/bundle.js';

// `npm run build`, after tsc: the web console bundled into dist/console (issue 15), which a server
// running from dist/ serves as it is, without loading esbuild.

const files = await bundleConsole();
await rm(BUILT_DIR, { recursive: true, force: true });
await mkdir(BUILT_DIR, { recursive: true });
for (const file of files) await writeFile(`${BUILT_DIR}${file.name}`, file.body);
console.error(`console: ${files.map((file) => `${file.name} ${(file.body.length / 1024).toFixed(0)} KiB`).join(', ')} → ${BUILT_DIR}`);
