import type { Backend } from '@trt-refit/core';
import { CliError, ExitCode } from './io.js';

/** Backends the CLI can use (`--backend`). */
export const BACKEND_NAMES = ['mock', 'native'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/**
 * Creates the backend a command asked for. Backends are imported lazily so that `--backend mock` never loads the
 * native addon and vice versa.
 */
export async function selectBackend(name: string, options: { tensorrtVersion?: string } = {}): Promise<Backend> {
  if (name === 'mock') {
    const { createMockBackend } = await import('@trt-refit/mock-backend');
    return createMockBackend(options.tensorrtVersion ? { tensorrtVersion: options.tensorrtVersion } : {});
  }
  if (name === 'native') {
    const { loadNativeBackend } = await import('@trt-refit/native-backend');
    return loadNativeBackend();
  }
  throw new CliError(`--backend must be one of ${BACKEND_NAMES.join(', ')}, received ${JSON.stringify(name)}`, ExitCode.USAGE);
}
