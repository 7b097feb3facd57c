import type { CommandModule } from '../program.js';

/** Every subcommand, in the order `--help` lists them. */
export const commands: CommandModule[] = [];
