import { defineConfig } from 'vitest/config';

const packages = ['core', 'onnx', 'mock-backend', 'native-backend', 'cli'];

export default defineConfig({
  // Tests import the workspace packages from their TypeScript sources (the `source` export condition),
  // so `pnpm test` needs no build and always sees the current code.
  resolve: { conditions: ['source', 'node', 'module', 'development|production'] },
  ssr: { resolve: { conditions: ['source', 'node', 'module', 'development|production'], externalConditions: ['source', 'node'] } },
  test: {
    projects: packages.map((name) => ({
      extends: true,
      test: {
        name,
        root: `packages/${name}`,
        include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
        testTimeout: 60_000,
      },
    })),
  },
});
