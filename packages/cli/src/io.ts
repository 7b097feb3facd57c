import cliProgress from 'cli-progress';
import picocolors from 'picocolors';
import { isTrtRefitError } from '@trt-refit/core';
import { openRegularFile, readRegularFile } from '@trt-refit/onnx';

/** Exit codes of `trt-refit`: 0 done, 1 refused input (or a failed check), 2 usage. */
export const ExitCode = { OK: 0, REFUSED: 1, USAGE: 2 } as const;

/** Where a command writes; injected so tests run commands in-process. */
export interface CliIo {
  /** Writes command output (text or, with `--json`, JSON); `text` carries its own newlines. */
  stdout: (text: string) => void;
  /** Writes errors and diagnostics; `text` carries its own newlines. */
  stderr: (text: string) => void;
  /** True when stderr is a terminal: progress bars are drawn only then (never on a pipe or a file). */
  isTTY: boolean;
  /** True when stdout is a terminal: colours are used only then (and never with NO_COLOR set). */
  stdoutTTY?: boolean;
  /** Where progress bars are drawn (default process.stderr). */
  progressStream?: NodeJS.WritableStream;
  /** Environment the commands read: NO_COLOR, FORCE_COLOR, CI; `doctor` passes it to the native backend's probe. */
  env: NodeJS.ProcessEnv;
  /** Working directory of the run. */
  cwd: string;
}

/** The {@link CliIo} of the running process: its stdout, stderr, TTY state, environment and working directory. */
export const processIo = (): CliIo => ({
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  isTTY: !!process.stderr.isTTY,
  stdoutTTY: !!process.stdout.isTTY,
  env: process.env,
  cwd: process.cwd(),
});

/** An error a command throws to exit with `exitCode` after printing `message`. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: number = ExitCode.REFUSED, readonly errorCode = 'ERR_TRT_REFIT_CLI') {
    super(message);
  }
}

/** Prints an error as text, or as `{"error": {"code", "message"}}` with `--json`, and returns its exit code. */
export function reportError(io: CliIo, e: unknown, json: boolean): number {
  const exitCode = e instanceof CliError ? e.exitCode : ExitCode.REFUSED;
  const code = e instanceof CliError ? e.errorCode : isTrtRefitError(e) ? e.code : 'ERR_TRT_REFIT_INTERNAL';
  const message = e instanceof Error ? e.message : String(e);
  if (json) io.stdout(JSON.stringify({ error: { code, message } }) + '\n');
  io.stderr(`trt-refit: ${message}\n`);
  return exitCode;
}

/** A progress bar that may be absent: `update` and `stop` do nothing then. */
export interface Progress {
  update(done: number, total: number): void;
  stop(): void;
}

/**
 * A progress bar on stderr (cli-progress) for a long read or refit, or nothing: not on a pipe or a file
 * (`io.isTTY` false), not with `--json`, not under CI (`CI` set). It draws no colours, so NO_COLOR holds.
 */
export function progressBar(io: CliIo, label: string, json: boolean | undefined): Progress {
  if (!io.isTTY || json || io.env.CI) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    { stream: io.progressStream ?? process.stderr, format: `${label} [{bar}] {percentage}% | {value}/{total}`, clearOnComplete: true, hideCursor: false, noTTYOutput: true, notTTYSchedule: 100 },
    cliProgress.Presets.legacy,
  );
  let started = false;
  return {
    update(done, total) {
      if (!started) bar.start(total, 0);
      started = true;
      bar.setTotal(total);
      bar.update(done);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

/** Colour functions for stdout: plain text unless stdout is a terminal, or with NO_COLOR set (any value but ''). */
export function colorsFor(io: CliIo): ReturnType<typeof picocolors.createColors> {
  const noColor = io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '';
  const force = io.env.FORCE_COLOR !== undefined && io.env.FORCE_COLOR !== '0';
  return picocolors.createColors(!noColor && (force || !!io.stdoutTTY));
}

/**
 * Reads a whole input file for a command: a missing file, a directory, a FIFO or a device is a refused input
 * (exit 1) naming the path, never a hang or a stack trace.
 */
export async function readInputFile(path: string): Promise<Uint8Array> {
  return readRegularFile(path, (what) => new CliError(`cannot read ${path}: it is ${what}`)).catch(asCliError(path));
}

/** Refuses, as {@link readInputFile} would, a path that is not a readable regular file, reading nothing. */
export async function checkInputFile(path: string): Promise<void> {
  const { fh } = await openRegularFile(path, (what) => new CliError(`cannot read ${path}: it is ${what}`)).catch(asCliError(path));
  await fh.close();
}

const asCliError = (path: string) => (e: unknown): never => {
  if (e instanceof CliError) throw e;
  throw new CliError(`cannot read ${path}: ${(e as Error).message}`);
};

/** A `--map <map.json>` file: one JSON object of checkpoint name → ONNX initializer name (strings only). */
export async function readNameMap(path: string): Promise<Record<string, string>> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(await readInputFile(path)));
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`${path} is not JSON: ${(e as Error).message}`, ExitCode.USAGE);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CliError(`${path} must hold one JSON object of checkpoint name → initializer name`, ExitCode.USAGE);
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw new CliError(`${path}: the value for ${JSON.stringify(k)} must be an initializer name (a string)`, ExitCode.USAGE);
    out[k] = v;
  }
  return out;
}
