import type { CommandModule } from '../program.js';
import { buildCommand } from './build.js';
import { demoCommand } from './demo.js';
import { diffCommand } from './diff.js';
import { doctorCommand } from './doctor.js';
import { inspectCommand } from './inspect.js';
import { recipeCommand } from './recipe.js';
import { refitCommand } from './refit.js';
import { runCommand } from './run.js';

/** Every subcommand, in the order `--help` lists them. */
export const commands: CommandModule[] = [inspectCommand, buildCommand, refitCommand, recipeCommand, runCommand, diffCommand, doctorCommand, demoCommand];
