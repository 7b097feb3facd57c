import { isTrtRefitError } from '@trt-refit/core';

/** Exit codes of `trt-refit`: 0 done, 1 refused input (or a failed check), 2 usage. */
export const ExitCode = { OK: 0, REFUSED: 1, USAGE: 2 } as const;

/** Where a command writes; injected so tests run commands in-process. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** True when stdout is a terminal (progress bars and colours only then). */
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export const processIo = (): CliIo => ({
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  isTTY: !!process.stderr.isTTY,
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
