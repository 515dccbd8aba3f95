import { createRecorderProgram } from './program.js';

await createRecorderProgram().parseAsync(process.argv);
