import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativeBinding } from './binding.js';

/** Where the addon was looked for, and what happened. */
export interface BindingAttempt {
  readonly path: string;
  readonly error?: string;
}

/** `build-info.json` written by `build:native` beside the build (why TensorRT was or was not compiled in). */
export interface NativeBuildRecord {
  readonly tensorrt?: { readonly compiled: boolean; readonly reason?: string; readonly headerVersion?: string; readonly includeDir?: string };
  readonly reason?: string;
}

/**
 * What {@link loadBinding} returns: the loaded addon with its path, or `ok: false`; both list every attempt and,
 * when one was found, the `build-info.json` record of the build.
 */
export type BindingResult =
  | { readonly ok: true; readonly binding: NativeBinding; readonly path: string; readonly attempts: readonly BindingAttempt[]; readonly build?: NativeBuildRecord }
  | { readonly ok: false; readonly attempts: readonly BindingAttempt[]; readonly build?: NativeBuildRecord };

const ADDON = 'trt_refit_native.node';

/** This package's folder (from src/ or dist/). */
function packageDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..');
}

/**
 * The command that builds the addon, runnable as printed from anywhere: a consumer project that installed this
 * package or the monorepo (`node <this package>/scripts/build-native.mjs`; in a project that depends on the package,
 * `npx trt-refit-build-native` is the same). `env` is put in front (e.g. `TENSORRT_ROOT=<its root> `).
 */
export function nativeBuildCommand(env = ''): string {
  const script = join(packageDir(), 'scripts', 'build-native.mjs');
  return `${env}node ${/[^\w./@+-]/.test(script) ? JSON.stringify(script) : script}`;
}

/**
 * Candidate addon files: an explicit path alone, else `TRT_REFIT_NATIVE_ADDON` alone (asking for one file and
 * silently getting another would be worse than failing), else `TRT_REFIT_BUILD_DIR` and the package's own
 * `build/` (Release, then Debug).
 */
export function addonCandidates(explicit?: string, env: NodeJS.ProcessEnv = process.env): string[] {
  if (explicit) return [resolve(explicit)];
  if (env.TRT_REFIT_NATIVE_ADDON) return [resolve(env.TRT_REFIT_NATIVE_ADDON)];
  const out: string[] = [];
  for (const dir of [env.TRT_REFIT_BUILD_DIR, join(packageDir(), 'build')]) {
    if (!dir) continue;
    out.push(join(resolve(dir), 'Release', ADDON), join(resolve(dir), 'Debug', ADDON));
  }
  return [...new Set(out)];
}

function readBuildRecord(addonPath: string): NativeBuildRecord | undefined {
  const file = join(dirname(addonPath), '..', 'build-info.json');
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as NativeBuildRecord;
  } catch {
    return undefined;
  }
}

/**
 * Loads the addon from the first candidate that exists and loads; collects every failure instead of throwing, so
 * the caller can explain them all. Loading never needs CUDA or TensorRT (both are opened later, with dlopen).
 */
export function loadBinding(explicit?: string, env: NodeJS.ProcessEnv = process.env): BindingResult {
  const require = createRequire(import.meta.url);
  const attempts: BindingAttempt[] = [];
  let build: NativeBuildRecord | undefined;
  for (const path of addonCandidates(explicit, env)) {
    if (!existsSync(path)) {
      attempts.push({ path, error: 'not found' });
      build ??= readBuildRecord(path);
      continue;
    }
    try {
      const binding = require(path) as NativeBinding;
      const record = readBuildRecord(path);
      return { ok: true, binding, path, attempts: [...attempts, { path }], ...(record ? { build: record } : {}) };
    } catch (e) {
      attempts.push({ path, error: e instanceof Error ? e.message : String(e) });
    }
  }
  return { ok: false, attempts, ...(build ? { build } : {}) };
}
