import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runConformanceSuite } from '@trt-refit/core/conformance';
import { createMockBackend, writeLeanRuntime } from '@trt-refit/mock-backend';

const fixturesDir = fileURLToPath(new URL('../../../fixtures', import.meta.url));

// Every step of ACCEPTANCE.md A-F, numerical checks included (CPU execution against onnxruntime's outputs).
runConformanceSuite('mock', () => createMockBackend(), {
  fixturesDir,
  capabilities: { execution: true, handBuiltNetworks: true, contentHashCheck: true },
  leanRuntimePath: async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'trt-refit-lean-')), 'libnvinfer_lean.mock');
    await writeLeanRuntime(path, createMockBackend().tensorrtVersion);
    return path;
  },
});
