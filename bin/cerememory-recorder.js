#!/usr/bin/env node
// Runs the compiled recorder when `npm run build` has produced dist/, the TypeScript source otherwise.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/recorder/main.js', import.meta.url);
if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/recorder/main.ts', import.meta.url).href);
}
