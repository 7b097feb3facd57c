import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runConformanceSuite } from '@trt-refit/core/conformance';
import { createMockBackend, writeLeanRuntime } from '@trt-refit/mock-backend';

const fixturesDir = fileURLToPath(new URL('../../../fixtures', import.meta.url));

// Numerical checks need CPU execution (issue 5); every other step of ACCEPTANCE.md A-F runs here.
runConformanceSuite('mock', () => createMockBackend(), {
  fixturesDir,
  capabilities: { execution: false, handBuiltNetworks: true, contentHashCheck: true },
  leanRuntimePath: async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'trt-refit-lean-')), 'libnvinfer_lean.mock');
    await writeLeanRuntime(path, createMockBackend().tensorrtVersion);
    return path;
  },
});
