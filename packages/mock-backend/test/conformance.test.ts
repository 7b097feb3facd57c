import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runConformanceSuite } from '@trt-refit/core/conformance';
import { createMockBackend, writeLeanRuntime } from '@trt-refit/mock-backend';

const fixturesDir = fileURLToPath(new URL('../../../fixtures', import.meta.url));

// Every step of ACCEPTANCE.md A-F and the fidelity rows G, numerical checks included (CPU execution against
// onnxruntime's outputs), for the default version and for versions whose parser rules differ (10.13: other generated
// names and no ConstantOfShape weights; 11.3: 11.x enums, strongly typed networks).
for (const tensorrtVersion of [undefined, '10.13', '11.3']) {
  const create = () => createMockBackend(tensorrtVersion ? { tensorrtVersion } : {});
  runConformanceSuite(`mock${tensorrtVersion ? ` (TensorRT ${tensorrtVersion})` : ''}`, create, {
    fixturesDir,
    capabilities: { execution: true, handBuiltNetworks: true, contentHashCheck: true },
    leanRuntimePath: async () => {
      const path = join(mkdtempSync(join(tmpdir(), 'trt-refit-lean-')), 'libnvinfer_lean.mock');
      await writeLeanRuntime(path, create().tensorrtVersion);
      return path;
    },
  });
}
