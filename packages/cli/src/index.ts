export { VERSION, runCli } from './program.js';
export type { CommandModule } from './program.js';
export { ExitCode, CliError, type CliIo } from './io.js';
