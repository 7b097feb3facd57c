#!/usr/bin/env node
// `prepack` of every package (run by `pnpm pack` / `pnpm publish` in the package's folder): builds it (tsc -b, its
// references too), and copies what a tarball needs from the repository: the LICENSE, and for @trt-refit/core the
// fixtures its conformance suite runs on (so `runConformanceSuite(name, factory)` works from npm).
import { execFileSync } from 'node:child_process';
import { cpSync, copyFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const pkgDir = process.cwd();
const root = join(pkgDir, '..', '..');
const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-b'], { cwd: pkgDir, stdio: 'inherit' });
copyFileSync(join(root, 'LICENSE'), join(pkgDir, 'LICENSE'));
if (pkgDir.endsWith(join('packages', 'core'))) {
  const dest = join(pkgDir, 'fixtures');
  rmSync(dest, { recursive: true, force: true });
  for (const set of ['convbn', 'cosconvbn', 'tinyxf']) cpSync(join(root, 'fixtures', set), join(dest, set), { recursive: true });
}
