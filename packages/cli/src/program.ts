import { Command, CommanderError } from 'commander';
import { ExitCode, processIo, reportError, type CliIo } from './io.js';
import { commands } from './commands/index.js';

/** A command module: adds its subcommand to the program. Actions return the exit code. */
export interface CommandModule {
  /**
   * Adds the subcommand (its arguments, options and action) to `program`. The action writes through `io` and
   * passes its exit code to `setExit`, which {@link runCli} resolves to.
   */
  register(program: Command, io: CliIo, setExit: (code: number) => void): void;
}

/**
 * Runs `trt-refit` with `argv` (without `node` and the script) and resolves to the exit code. Never calls
 * `process.exit`, so tests can run it in-process with a captured {@link CliIo}.
 */
export async function runCli(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  let exitCode: number = ExitCode.OK;
  const program = new Command('trt-refit')
    .description('TensorRT refit and weight-stripping tools: inspect, build, refit, run, diff, doctor, demo')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError();
  for (const c of commands) c.register(program, io, (code) => (exitCode = code));
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return ExitCode.OK;
      return ExitCode.USAGE;
    }
    return reportError(io, e, argv.includes('--json'));
  }
  return exitCode;
}
