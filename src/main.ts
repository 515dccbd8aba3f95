import { createProgram } from './transports/cli/program.js';

await createProgram().parseAsync(process.argv);
