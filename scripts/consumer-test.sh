#!/usr/bin/env bash
# What npm consumers get: packs every package (prepack builds it), installs the tarballs into an empty npm project
# without @trt-refit/native-backend, type-checks a strict NodeNext program against them and runs it (build -> strip
# -> parser refit on the mock), runs the whole conformance suite against the mock from the installed packages (its
# fixtures ship in @trt-refit/core), asks `npx trt-refit --version`, and require()s every package.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/tarballs" "$work/app"
for p in core onnx mock-backend cli; do (cd "packages/$p" && pnpm pack --pack-destination "$work/tarballs" >/dev/null); done
ls "$work/tarballs"
cd "$work/app"
npm init -y >/dev/null
npm pkg set type=module
# the versions this repository pins, so the consumer check is reproducible
npm install --no-audit --no-fund "$work"/tarballs/*.tgz "typescript@$(node -p "require('$root/node_modules/typescript/package.json').version")" "vitest@$(node -p "require('$root/node_modules/vitest/package.json').version")" "@types/node@$(node -p "require('$root/node_modules/@types/node/package.json').version")" >/dev/null
test ! -e node_modules/@trt-refit/native-backend || { echo "native-backend was installed"; exit 1; }
cat > tsconfig.json <<'JSON'
{ "compilerOptions": { "strict": true, "module": "NodeNext", "moduleResolution": "NodeNext", "target": "ES2022", "lib": ["ES2022"], "types": ["node"], "noEmit": true, "skipLibCheck": true }, "include": ["app.ts"] }
JSON
cat > app.ts <<'TS'
import { BuilderFlag, type Backend } from '@trt-refit/core';
import { refitEngine } from '@trt-refit/onnx';
import { createMockBackend } from '@trt-refit/mock-backend';
import { createRequire } from 'node:module';
const model = createRequire(import.meta.url).resolve('@trt-refit/core/package.json').replace(/package\.json$/, 'fixtures/convbn/convbn_a.onnx');
const backend: Backend = createMockBackend();
const builder = backend.createBuilder();
const network = builder.createNetwork();
if (!(await backend.createOnnxParser(network).parseFromFile(model))) throw new Error('parse failed');
const config = builder.createBuilderConfig();
config.setFlag(BuilderFlag.STRIP_PLAN);
const engine = await backend.createRuntime().deserializeCudaEngine(await builder.buildSerializedNetwork(network, config));
const report = await refitEngine(backend, engine, { onnx: model });
console.log(`consumer program: refitted ${report.weights} weights of a stripped plan`);
TS
npx tsc -p tsconfig.json
# also with the libraries' declarations checked (skipLibCheck off), as the strictest consumers compile
npx tsc -p tsconfig.json --skipLibCheck false
# the protobufjs that onnx-proto loads in this graph: at least 6.11.4, the release that fixes GHSA-h755-8qp9-cq85
node -e "
const { createRequire } = require('module');
const onnx = createRequire(require.resolve('@trt-refit/onnx'));
const proto = createRequire(onnx.resolve('onnx-proto'));
const v = proto('protobufjs/package.json').version;
const [a, b, c] = v.split('.').map(Number);
if (!(a > 6 || (a === 6 && (b > 11 || (b === 11 && c >= 4))))) throw new Error('onnx-proto loads protobufjs ' + v);
console.log('onnx-proto loads protobufjs ' + v + ' here (>= 6.11.4): ok');"
cp app.ts app.mts && npx tsc app.mts --module NodeNext --moduleResolution NodeNext --target ES2022 --outDir out --skipLibCheck >/dev/null && node out/app.mjs
cat > conformance.test.mjs <<'JS'
import { runConformanceSuite } from '@trt-refit/core/conformance';
import { createMockBackend } from '@trt-refit/mock-backend';
runConformanceSuite('mock (installed from npm)', () => createMockBackend());
JS
npx vitest run conformance.test.mjs --reporter=dot
npx trt-refit --version
node -e "for (const p of ['@trt-refit/core', '@trt-refit/onnx', '@trt-refit/mock-backend', '@trt-refit/cli']) require(p); console.log('require() of every package: ok')"

# Then the native backend from its tarball: the CLI finds it, doctor's fix is a command that works here, and the
# addon builds from the installed package with that one command (where CUDA toolkit headers exist).
mkdir -p "$work/tarballs-native"
(cd "$root/packages/native-backend" && pnpm pack --pack-destination "$work/tarballs-native" >/dev/null)
npm install --no-audit --no-fund "$work"/tarballs-native/*.tgz >/dev/null
npx trt-refit doctor --json > doctor.json || true
node -e "
const d = JSON.parse(require('fs').readFileSync('doctor.json', 'utf8'));
const fixes = JSON.stringify(d);
if (!fixes.includes('node_modules/@trt-refit/native-backend/scripts/build-native.mjs')) throw new Error('doctor does not print the installed package build command: ' + fixes);
console.log('doctor prints the installed package build command: ok');"
if [[ -e "${CUDA_PATH:-/usr/local/cuda}/include/cuda_runtime_api.h" ]]; then
  npx trt-refit-build-native --no-tensorrt
  test -e node_modules/@trt-refit/native-backend/build/Release/trt_refit_native.node
  npx trt-refit doctor --json > doctor.json || true
  node -e "
const d = JSON.stringify(JSON.parse(require('fs').readFileSync('doctor.json', 'utf8')));
if (d.includes('is not built')) throw new Error('doctor still finds no addon: ' + d);"
  echo "addon built from the installed package, and the CLI loads it: ok"
else
  echo "skipped: no CUDA toolkit headers here (CUDA_PATH), so the addon build from the installed package was not tried"
fi
echo "consumer test: ok"
