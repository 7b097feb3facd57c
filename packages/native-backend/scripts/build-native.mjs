#!/usr/bin/env node
// Builds the trt-refit addon with cmake-js (Node-API mode: no downloads). Explicit on purpose: `pnpm install`
// never compiles anything.
//
//   npx trt-refit-build-native [--debug] [--werror] [--no-tensorrt]     (a project that installed the package)
//   pnpm --filter @trt-refit/native-backend run build:native [-- --debug]  (this repository)
//
// Environment:
//   TENSORRT_INCLUDE_DIR  folder with NvInfer.h and NvOnnxParser.h (wins over TENSORRT_ROOT)
//   TENSORRT_ROOT         a TensorRT install; its include/ is used
//   CUDA_PATH             CUDA toolkit root (default /usr/local/cuda); only its headers are needed
//   TRT_REFIT_BUILD_DIR   build folder (default <package>/build); the addon lands in <dir>/Release
//
// Without CUDA headers nothing is built and the reason is printed (exit 1). Without TensorRT headers the CUDA part
// is built and build-info.json records that TensorRT support was not compiled in.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
for (const a of args) {
  if (!['--debug', '--werror', '--no-tensorrt', '--help'].includes(a)) {
    console.error(`build-native: unknown option ${a} (known: --debug, --werror, --no-tensorrt)`);
    process.exit(2);
  }
}
if (args.has('--help')) {
  const lines = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n');
  console.log(lines.slice(1, lines.findIndex((l) => l.startsWith('import '))).map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
  process.exit(0);
}

/** The first folder of `dirs` that holds `file`, or undefined. */
function findHeader(dirs, file) {
  return dirs.find((d) => d && existsSync(join(d, file)));
}

/** TensorRT's version from NvInferVersion.h (numeric macros before 10.x, *_ENTERPRISE macros from 10.x). */
function tensorRtVersion(includeDir) {
  const text = readFileSync(join(includeDir, 'NvInferVersion.h'), 'utf8');
  const part = (name) => {
    const m = new RegExp(`#define\\s+(?:TRT_${name}_ENTERPRISE|NV_TENSORRT_${name})\\s+(\\d+)`).exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const [major, minor, patch] = [part('MAJOR'), part('MINOR'), part('PATCH')];
  return major === undefined ? undefined : `${major}.${minor ?? 0}.${patch ?? 0}`;
}

const buildDir = resolve(process.env.TRT_REFIT_BUILD_DIR || join(packageDir, 'build'));
const cudaRoot = process.env.CUDA_PATH || '/usr/local/cuda';
const cudaInclude = findHeader([join(cudaRoot, 'include'), join(cudaRoot, 'targets', 'x86_64-linux', 'include'), join(cudaRoot, 'targets', 'sbsa-linux', 'include')], 'cuda_runtime_api.h');
const info = { builtAt: new Date().toISOString(), buildDir, cuda: { root: cudaRoot, includeDir: cudaInclude ?? null }, tensorrt: { compiled: false } };
mkdirSync(buildDir, { recursive: true });

if (!cudaInclude) {
  info.reason = `no CUDA toolkit headers (cuda_runtime_api.h) under ${cudaRoot}: install the CUDA toolkit or set CUDA_PATH; nothing was built`;
  writeFileSync(join(buildDir, 'build-info.json'), JSON.stringify(info, null, 2) + '\n');
  console.error(`build-native: ${info.reason}`);
  process.exit(1);
}

let trtInclude;
if (args.has('--no-tensorrt')) {
  info.tensorrt.reason = 'disabled with --no-tensorrt';
} else {
  const candidates = [process.env.TENSORRT_INCLUDE_DIR, process.env.TENSORRT_ROOT && join(process.env.TENSORRT_ROOT, 'include')].filter(Boolean);
  trtInclude = findHeader(candidates, 'NvInfer.h');
  if (!trtInclude) {
    info.tensorrt.reason = candidates.length
      ? `NvInfer.h not found in ${candidates.join(' or ')}`
      : 'neither TENSORRT_INCLUDE_DIR nor TENSORRT_ROOT is set';
  } else if (!existsSync(join(trtInclude, 'NvOnnxParser.h'))) {
    info.tensorrt.reason = `${trtInclude} has NvInfer.h but no NvOnnxParser.h (TensorRT ships it from 10.14; for older releases copy onnx-tensorrt's NvOnnxParser.h beside it)`;
    trtInclude = undefined;
  } else {
    info.tensorrt = { compiled: true, includeDir: trtInclude, headerVersion: tensorRtVersion(trtInclude) ?? 'unknown' };
  }
}
if (!trtInclude) console.warn(`build-native: building without TensorRT support: ${info.tensorrt.reason}`);

const require = createRequire(join(packageDir, 'package.json'));
const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
const version = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')).version;
const common = [
  '--directory', packageDir,
  '--out', buildDir,
  ...(args.has('--debug') ? ['--debug'] : []),
  `--CDTRT_REFIT_CUDA_INCLUDE_DIR=${cudaInclude}`,
  // "OFF" rather than empty: cmake-js drops empty values, which would keep a stale cached include dir.
  `--CDTRT_REFIT_TENSORRT_INCLUDE_DIR=${trtInclude ?? 'OFF'}`,
  `--CDTRT_REFIT_WERROR=${args.has('--werror') ? 'ON' : 'OFF'}`,
  `--CDTRT_REFIT_ADDON_VERSION=${version}`,
  '--CDnapi_build_version=8',
];

function cmakeJsRun(command, extra = []) {
  const r = spawnSync(process.execPath, [cmakeJs, command, ...common, ...extra], { stdio: 'inherit', cwd: packageDir });
  if (r.status !== 0) {
    console.error(`build-native: cmake-js ${command} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status || 1);
  }
}
cmakeJsRun('configure');
cmakeJsRun('build', ['--parallel', String(availableParallelism())]);

const config = args.has('--debug') ? 'Debug' : 'Release';
const addon = join(buildDir, config, 'trt_refit_native.node');
if (!existsSync(addon)) {
  console.error(`build-native: the build finished but ${addon} is missing`);
  process.exit(1);
}
info.addon = addon;
writeFileSync(join(buildDir, 'build-info.json'), JSON.stringify(info, null, 2) + '\n');
console.log(`build-native: ${addon} (TensorRT ${info.tensorrt.compiled ? info.tensorrt.headerVersion : 'not compiled in'})`);
