import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import { ExitCode, processIo, reportError, type CliIo } from './io.js';
import { commands } from './commands/index.js';

/** The version of the `@trt-refit/cli` package (`trt-refit --version`). */
export const VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

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
  const json = argv.includes('--json');
  const program = new Command('trt-refit')
    .description('TensorRT refit and weight-stripping tools: inspect, build, refit, recipe, run, diff, doctor, demo')
    .version(VERSION, '-V, --version', 'the version of trt-refit')
    .exitOverride()
    // Under --json a usage error is one JSON document on stdout (below), not text and the whole help on stderr.
    .configureOutput({ writeOut: io.stdout, writeErr: json ? () => {} : io.stderr, outputError: json ? () => {} : (text, write) => write(text) });
  if (!json) program.showHelpAfterError('(trt-refit <command> --help for its options)');
  for (const c of commands) {
    c.register(program, io, (code) => (exitCode = code));
  }
  for (const sub of program.commands) sub.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: json ? () => {} : io.stderr, outputError: json ? () => {} : (text, write) => write(text) });
  if (argv.length === 0) {
    // bare `trt-refit`: the help, and the usage exit code (nothing was done)
    io.stderr(program.helpInformation());
    return ExitCode.USAGE;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return ExitCode.OK;
      if (json) io.stdout(JSON.stringify({ error: { code: 'USAGE', message: e.message.replace(/^error: /, '') } }) + '\n');
      return ExitCode.USAGE;
    }
    return reportError(io, e, argv.includes('--json'));
  }
  return exitCode;
}
