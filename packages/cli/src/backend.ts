import { BackendUnavailableError, type Backend } from '@trt-refit/core';
import { CliError, ExitCode } from './io.js';

/** Options every backend factory takes. */
export interface BackendOptions {
  tensorrtVersion?: string;
}

/**
 * The backends the CLI can use (`--backend`), each a typed lazy import: `--backend mock` never loads the native
 * addon and vice versa, and nothing is imported for its side effects.
 */
export const BACKENDS = {
  mock: async (o: BackendOptions): Promise<Backend> => (await import('@trt-refit/mock-backend')).createMockBackend(o),
  native: async (o: BackendOptions): Promise<Backend> => (await import('@trt-refit/native-backend')).loadNativeBackend(o),
} as const satisfies Record<string, (o: BackendOptions) => Promise<Backend>>;

/** Backends the CLI can use (`--backend`). */
export const BACKEND_NAMES = Object.keys(BACKENDS) as (keyof typeof BACKENDS)[];
export type BackendName = keyof typeof BACKENDS;

/** Creates the backend a command asked for. */
export async function selectBackend(name: string, options: BackendOptions = {}): Promise<Backend> {
  if (!Object.hasOwn(BACKENDS, name)) {
    throw new CliError(`--backend must be one of ${BACKEND_NAMES.join(', ')}, received ${JSON.stringify(name)}`, ExitCode.USAGE);
  }
  try {
    return await BACKENDS[name as BackendName](options.tensorrtVersion ? { tensorrtVersion: options.tensorrtVersion } : {});
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') {
      throw new BackendUnavailableError(name, [{ cause: `the package of the ${name} backend is not installed`, fix: `npm install @trt-refit/${name}-backend` }]);
    }
    throw e;
  }
}
