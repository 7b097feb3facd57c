import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';
import { silentLogger, type Backend } from '@trt-refit/core';
import { runConformanceSuite } from '@trt-refit/core/conformance';
import { diagnoseNativeBackend, loadNativeBackend } from '../src/index.js';

/**
 * The core conformance suite (ACCEPTANCE.md A-F) against real TensorRT. Opt-in with TRT_REFIT_NATIVE=1, and only
 * where the backend loads; otherwise one skipped test says why. Hand-built networks are not built natively (the
 * native builder takes ONNX through TensorRT's parser), so the suite skips those scenarios; TRT_REFIT_LEAN_RUNTIME
 * names a lean runtime library for scenario D1 (default: libnvinfer_lean beside libnvinfer).
 */
const fixturesDir = fileURLToPath(new URL('../../../fixtures', import.meta.url));
const enabled = process.env.TRT_REFIT_NATIVE === '1';
const diagnosis = enabled ? diagnoseNativeBackend() : undefined;

function leanRuntime(): string | undefined {
  if (process.env.TRT_REFIT_LEAN_RUNTIME) return process.env.TRT_REFIT_LEAN_RUNTIME;
  const nvinfer = diagnosis?.tensorrt?.nvinfer;
  const lean = nvinfer?.replace(/libnvinfer\.so/, 'libnvinfer_lean.so');
  return lean && lean !== nvinfer && existsSync(lean) ? lean : undefined;
}

if (!enabled) {
  describe('conformance: native', () => {
    it.skip('skipped: set TRT_REFIT_NATIVE=1 on a machine with a CUDA GPU and TensorRT to run the conformance suite against the native backend', () => {});
  });
} else if (diagnosis!.reasons.length > 0) {
  describe('conformance: native', () => {
    it.skip(`skipped: the native backend is unavailable here: ${diagnosis!.reasons.map((r) => r.cause).join('; ')}`, () => {});
  });
} else {
  let backend: Backend | undefined;
  const lean = leanRuntime();
  runConformanceSuite('native', () => (backend ??= loadNativeBackend({ logger: silentLogger })), {
    fixturesDir,
    capabilities: { execution: true, handBuiltNetworks: true, contentHashCheck: true }, // plans built in-process carry their identity manifest
    ...(lean ? { leanRuntimePath: async () => lean } : {}),
  });
}
