/**
 * The backend conformance suite: every workflow of ACCEPTANCE.md as vitest tests over a backend factory.
 * The mock backend runs it in CI; the native backend wherever TensorRT is installed.
 *
 * @example
 * ```ts
 * // packages/my-backend/test/conformance.test.ts
 * import { runConformanceSuite } from '@trt-refit/core/conformance';
 * runConformanceSuite('my-backend', () => createMyBackend()); // the fixtures ship with @trt-refit/core
 * ```
 * @module
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe } from 'vitest';
import type { Backend } from '../interfaces.js';
import { ConformanceFixtures } from './fixtures.js';
import { refitScenarios } from './scenario-a-refit.js';
import { strippingScenarios } from './scenario-b-stripping.js';
import { parserRefitScenarios } from './scenario-c-parser-refit.js';
import { leanRuntimeScenarios } from './scenario-d-lean-runtime.js';
import { individualScenarios } from './scenario-e-individual.js';
import { badInputScenarios } from './scenario-f-bad-input.js';
import { fidelityScenarios } from './scenario-g-fidelity.js';
import type { ConformanceContext } from './context.js';

export { ConformanceFixtures, maxRelativeError } from './fixtures.js';
export type { ConformanceContext } from './context.js';

/** What a backend can do beyond the required interfaces; scenarios needing more are skipped, saying why. */
export interface ConformanceCapabilities {
  /** `context.execute` computes real outputs (numerical checks). Default true. */
  readonly execution?: boolean;
  /** Engines can be built from networks assembled by hand (not only through the ONNX parser). Default true. */
  readonly handBuiltNetworks?: boolean;
  /** A stripped REFIT_IDENTICAL engine refuses weights whose content differs from the build (trt-refit checks; TensorRT does not). */
  readonly contentHashCheck?: boolean;
}

/** Options of {@link runConformanceSuite}. */
export interface ConformanceOptions {
  /**
   * The fixtures folder (convbn, cosconvbn, tinyxf). Default: the copy that ships in `@trt-refit/core`
   * (`fixtures/`), or the repository's `fixtures/` when run from a clone.
   */
  readonly fixturesDir?: string;
  /** A lean runtime library for the backend's version (`runtime.loadRuntime`); scenario D1 is skipped without. */
  readonly leanRuntimePath?: () => Promise<string>;
  readonly capabilities?: ConformanceCapabilities;
  /** Relative tolerance of "outputs equal" (default 1e-5). */
  readonly tolerance?: number;
}

/** The fixtures shipped with the package, or the repository's (a clone: src/ or dist/ of packages/core). */
function defaultFixturesDir(): string {
  const candidates = ['../../fixtures/', '../../../../fixtures/'].map((p) => fileURLToPath(new URL(p, import.meta.url)));
  const found = candidates.find((d) => existsSync(join(d, 'convbn', 'convbn_a.onnx')));
  if (!found) throw new Error(`the conformance fixtures were not found (looked in ${candidates.join(', ')}); pass fixturesDir`);
  return found;
}

/** Registers the whole suite (scenarios A to G) under `describe(name)`. */
export function runConformanceSuite(name: string, factory: () => Backend | Promise<Backend>, options: ConformanceOptions = {}): void {
  const ctx: ConformanceContext = {
    factory: async () => factory(),
    fixtures: new ConformanceFixtures(options.fixturesDir ?? defaultFixturesDir()),
    caps: { execution: true, handBuiltNetworks: true, contentHashCheck: false, ...options.capabilities },
    tolerance: options.tolerance ?? 1e-5,
    leanRuntimePath: options.leanRuntimePath,
  };
  describe(`conformance: ${name}`, () => {
    describe('A. refit', () => refitScenarios(ctx));
    describe('B. weight stripping', () => strippingScenarios(ctx));
    describe('C. refit from ONNX (parser refitter)', () => parserRefitScenarios(ctx));
    describe('D. lean runtime', () => leanRuntimeScenarios(ctx));
    describe('E. fine-grained refit', () => individualScenarios(ctx));
    describe('F. bad input', () => badInputScenarios(ctx));
    describe('G. fidelity to TensorRT (docs/fidelity.md)', () => fidelityScenarios(ctx));
  });
}
