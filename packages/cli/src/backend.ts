import { BackendUnavailableError, type Backend } from '@trt-refit/core';
import { CliError, ExitCode } from './io.js';

/** Backends the CLI can use (`--backend`). */
export const BACKEND_NAMES = ['mock', 'native'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

const FACTORIES: Record<BackendName, { module: string; factory: string }> = {
  mock: { module: '@trt-refit/mock-backend', factory: 'createMockBackend' },
  native: { module: '@trt-refit/native-backend', factory: 'loadNativeBackend' },
};

/**
 * Creates the backend a command asked for. Backends are imported lazily so that `--backend mock` never loads the
 * native addon and vice versa; a backend package that cannot provide its factory is reported as unavailable.
 */
export async function selectBackend(name: string, options: { tensorrtVersion?: string } = {}): Promise<Backend> {
  if (!(BACKEND_NAMES as readonly string[]).includes(name)) {
    throw new CliError(`--backend must be one of ${BACKEND_NAMES.join(', ')}, received ${JSON.stringify(name)}`, ExitCode.USAGE);
  }
  const { module, factory } = FACTORIES[name as BackendName];
  const mod = (await import(module)) as Record<string, unknown>;
  const create = mod[factory];
  if (typeof create !== 'function') {
    throw new BackendUnavailableError(name, [{ cause: `${module} does not provide ${factory}() in this build`, fix: `build the workspace (pnpm build) with a version of ${module} that implements it` }]);
  }
  return (await (create as (o: object) => Backend | Promise<Backend>)(options.tensorrtVersion ? { tensorrtVersion: options.tensorrtVersion } : {})) as Backend;
}
