import {
  BackendUnavailableError,
  ConsoleLogger,
  Severity,
  formatTensorRtVersion,
  parseTensorRtVersion,
  type Logger,
  type UnavailableReason,
  withFacades,
} from '@trt-refit/core';
import { NativeBackend } from './backend.js';
import type { NativeBinding, NativeCudaStatus, NativeDeviceProperties, NativeTensorRtLoadResult } from './binding.js';
import type { DynamicDimRange, NativeContext } from './context.js';
import { NativeDeviceApi } from './device.js';
import { LogBridges } from './diagnostics.js';
import { loadBinding, nativeBuildCommand, type BindingAttempt, type NativeBuildRecord } from './load-binding.js';
import { builderFlagBits } from './native-enums.js';
import { rangeError, typeError } from './validate.js';

/** Options of {@link loadNativeBackend} and {@link probeNativeBackend}. */
export interface NativeBackendOptions {
  /** The addon file (default: `TRT_REFIT_NATIVE_ADDON`, then `TRT_REFIT_BUILD_DIR`, then the package's `build/`). */
  readonly addonPath?: string;
  /** Folder holding `libnvinfer.so.<major>` (default: `TRT_REFIT_TENSORRT_LIB_DIR`, else the loader's search path). */
  readonly tensorrtLibDir?: string;
  /** When given, the loaded TensorRT must be this `major.minor` (the mock takes the same option to emulate one). */
  readonly tensorrtVersion?: string;
  /** Logger of objects created without one (default: warnings and errors to stderr). */
  readonly logger?: Logger;
  /** Least severe TensorRT message forwarded to loggers (default INFO; VERBOSE is very chatty). */
  readonly logSeverity?: Severity;
  /** Range given to each dynamic dimension of an input without an explicit profile (default 1 / 8 / 64). */
  readonly dynamicDims?: DynamicDimRange;
  /** The addon's exports, injected (tests use a fake); skips locating the addon. */
  readonly binding?: NativeBinding;
  /** Environment to read the variables above from (default `process.env`). */
  readonly env?: NodeJS.ProcessEnv;
}

/** What {@link diagnoseNativeBackend} found: blocking reasons, non-blocking notes, and the pieces it loaded. */
export interface NativeDiagnosis {
  /** Every cause that makes the backend unavailable, with its fix; empty when it is available. */
  readonly reasons: UnavailableReason[];
  /** Limitations that do not make it unavailable (e.g. the ONNX parser library is missing). */
  readonly notes: UnavailableReason[];
  readonly addonPath?: string;
  readonly addonAttempts: readonly BindingAttempt[];
  readonly binding?: NativeBinding;
  readonly cuda?: NativeCudaStatus;
  readonly device?: NativeDeviceProperties;
  readonly tensorrt?: NativeTensorRtLoadResult;
  /** The loaded TensorRT as `major.minor[.patch]`. */
  readonly version?: string;
}

/** `trt-refit doctor`'s view of a backend. */
export interface BackendProbe {
  readonly name: string;
  readonly available: boolean;
  /** The (loaded or emulated) TensorRT version, or null when none was found. */
  readonly version: string | null;
  /** Why it is unavailable or limited, each with its fix. */
  readonly reasons: UnavailableReason[];
}

const BUILD_FIX = `build the addon: ${nativeBuildCommand()} (needs the CUDA toolkit headers; set TENSORRT_ROOT for TensorRT support)`;

function buildReason(record: NativeBuildRecord | undefined): string {
  return record?.tensorrt?.reason ?? record?.reason ?? 'no TensorRT headers were found at build time';
}

function libFix(major: string, cudaMajor: string, env: NodeJS.ProcessEnv): string {
  return `install TensorRT ${major} for CUDA ${cudaMajor} (NVIDIA's tarball or the tensorrt-cu${cudaMajor} wheels from PyPI) and put its lib folder on LD_LIBRARY_PATH, or set TRT_REFIT_TENSORRT_LIB_DIR${env.TRT_REFIT_TENSORRT_LIB_DIR ? ` (now ${env.TRT_REFIT_TENSORRT_LIB_DIR})` : ''}`;
}

/**
 * Finds out, step by step, whether the native backend can run here, collecting every problem with its fix: the
 * addon (built? loadable?), CUDA (runtime library, driver, device), TensorRT (compiled in? library found? same
 * major as the headers, not older than them? flag numbers known?) and the ONNX parser. Never throws.
 */
export function diagnoseNativeBackend(options: NativeBackendOptions = {}): NativeDiagnosis {
  const env = options.env ?? process.env;
  const reasons: UnavailableReason[] = [];
  const notes: UnavailableReason[] = [];
  let binding = options.binding;
  let addonPath: string | undefined;
  let attempts: readonly BindingAttempt[] = [];
  let build: NativeBuildRecord | undefined;
  if (!binding) {
    const r = loadBinding(options.addonPath, env);
    attempts = r.attempts;
    build = r.build;
    if (!r.ok) {
      const tried = r.attempts.map((a) => `${a.path} (${a.error ?? 'failed'})`).join('; ');
      const found = r.attempts.find((a) => a.error && a.error !== 'not found');
      reasons.push(
        found
          ? { cause: `the native addon ${found.path} exists but does not load: ${found.error}`, fix: `rebuild it for this Node.js and platform; ${BUILD_FIX}` }
          : { cause: `the native addon is not built (looked for ${tried})`, fix: BUILD_FIX },
      );
      return { reasons, notes, addonAttempts: attempts };
    }
    binding = r.binding;
    addonPath = r.path;
  }
  const base = { addonAttempts: attempts, binding, ...(addonPath ? { addonPath } : {}) };

  let cuda: NativeCudaStatus | undefined;
  let device: NativeDeviceProperties | undefined;
  try {
    cuda = binding.cuda.status();
  } catch (e) {
    reasons.push({ cause: `the addon's CUDA status failed: ${(e as Error).message}`, fix: BUILD_FIX });
  }
  if (cuda && !cuda.loaded) {
    reasons.push({
      cause: `the CUDA ${cuda.headerVersion.split('.')[0]} runtime (libcudart) was not found: ${cuda.loadErrors.join('; ')}`,
      fix: `install the CUDA ${cuda.headerVersion.split('.')[0]} runtime and put it on LD_LIBRARY_PATH, or set CUDA_PATH or TRT_REFIT_CUDART_PATH`,
    });
  } else if (cuda && (cuda.deviceError || !cuda.deviceCount)) {
    reasons.push({
      cause: `no usable CUDA device: ${cuda.deviceError ?? 'cudaGetDeviceCount found none'}${cuda.driverVersion === 'none' ? ' (no NVIDIA driver)' : ''}`,
      fix: 'install an NVIDIA driver that supports this CUDA runtime and check CUDA_VISIBLE_DEVICES',
    });
  } else if (cuda) {
    try {
      device = binding.cuda.deviceProperties(binding.cuda.getDevice());
    } catch {
      // Only informative.
    }
  }

  const trtModule = binding.tensorrt;
  if (!binding.info.tensorrt || !trtModule) {
    reasons.push({
      cause: `the addon was built without TensorRT support: ${buildReason(build)}`,
      fix: `set TENSORRT_ROOT (or TENSORRT_INCLUDE_DIR) to TensorRT's headers and rebuild: ${nativeBuildCommand('TENSORRT_ROOT=<its root> ')}`,
    });
    return { reasons, notes, ...base, ...(cuda ? { cuda } : {}), ...(device ? { device } : {}) };
  }
  const headerMajor = trtModule.headerVersion.split('.')[0] ?? '?';
  const cudaMajor = binding.info.cudaHeaderVersion.split('.')[0] ?? '?';
  const libDir = options.tensorrtLibDir ?? env.TRT_REFIT_TENSORRT_LIB_DIR ?? null;
  const tensorrt = trtModule.load(libDir);
  let version: string | undefined;
  if (!tensorrt.ok) {
    for (const err of tensorrt.errors) {
      if (/differs between majors|older than/.test(err)) {
        reasons.push({ cause: err, fix: `rebuild the addon against the installed TensorRT's headers (${nativeBuildCommand('TENSORRT_ROOT=<its root> ')}), or install TensorRT ${trtModule.headerVersion} or a newer ${headerMajor}.x` });
      } else if (/already loaded/.test(err)) {
        reasons.push({ cause: err, fix: 'use one TensorRT per process (drop tensorrtLibDir or restart with the other folder)' });
      } else {
        reasons.push({ cause: `TensorRT ${headerMajor} (libnvinfer.so.${headerMajor}) could not be loaded: ${err}`, fix: libFix(headerMajor, cudaMajor, env) });
      }
    }
    if (tensorrt.errors.length === 0) reasons.push({ cause: 'TensorRT could not be loaded', fix: libFix(headerMajor, cudaMajor, env) });
  }
  if (tensorrt.version) {
    const v = parseTensorRtVersion(tensorrt.version);
    version = formatTensorRtVersion(v);
    if (tensorrt.ok && !builderFlagBits(v.major)) {
      reasons.push({ cause: `TensorRT ${version}: trt-refit knows the BuilderFlag numbers of TensorRT 10 and 11 only`, fix: 'use TensorRT 10.x or 11.x' });
    }
    if (options.tensorrtVersion !== undefined) {
      const want = parseTensorRtVersion(options.tensorrtVersion);
      if (want.major !== v.major || want.minor !== v.minor) {
        reasons.push({
          cause: `TensorRT ${options.tensorrtVersion} was requested but ${version} is installed (the native backend cannot emulate versions)`,
          fix: `drop the version option, or use the mock backend to emulate ${options.tensorrtVersion}`,
        });
      }
    }
  }
  if (tensorrt.ok && !tensorrt.parserAvailable) {
    notes.push({
      cause: `the TensorRT ONNX parser (libnvonnxparser.so.${headerMajor}) is unavailable: ${tensorrt.parserErrors.join('; ') || 'not found'}; building from ONNX and the parser refitter will fail`,
      fix: `install TensorRT's ONNX parser library beside libnvinfer (${tensorrt.nvinfer ?? 'libnvinfer'})`,
    });
  }
  return { reasons, notes, ...base, ...(cuda ? { cuda } : {}), ...(device ? { device } : {}), tensorrt, ...(version ? { version } : {}) };
}

/** Whether the native backend is usable here, for `trt-refit doctor`. Never throws. */
export function probeNativeBackend(options: NativeBackendOptions = {}): BackendProbe {
  const d = diagnoseNativeBackend(options);
  return { name: 'native', available: d.reasons.length === 0, version: d.version ?? null, reasons: [...d.reasons, ...d.notes] };
}

function checkDynamicDims(r: DynamicDimRange | undefined): DynamicDimRange {
  if (r === undefined) return { min: 1, opt: 8, max: 64 };
  if (r === null || typeof r !== 'object') throw typeError('dynamicDims', 'an object { min, opt, max }', r);
  const { min, opt, max } = r;
  if (![min, opt, max].every((x) => Number.isSafeInteger(x) && x > 0) || !(min <= opt && opt <= max)) {
    throw rangeError('dynamicDims', 'positive integers with min <= opt <= max', `${min}/${opt}/${max}`);
  }
  return { min, opt, max };
}

/**
 * The native backend: TensorRT and CUDA through the addon. Throws BackendUnavailableError listing every cause
 * and its fix (addon not built, CUDA or a device missing, TensorRT not compiled in, libnvinfer not found, major
 * mismatch...) when it cannot run here.
 *
 * @example
 * ```ts
 * const backend = loadNativeBackend();
 * const builder = backend.createBuilder();
 * const network = builder.createNetwork();
 * await backend.createOnnxParser(network).parseFromFile('model.onnx');
 * const config = builder.createBuilderConfig();
 * config.setFlags([BuilderFlag.STRIP_PLAN]);
 * const plan = await builder.buildSerializedNetwork(network, config);
 * ```
 */
export function loadNativeBackend(options: NativeBackendOptions = {}): NativeBackend {
  const dynamicDims = checkDynamicDims(options.dynamicDims);
  const d = diagnoseNativeBackend(options);
  if (d.reasons.length || !d.binding?.tensorrt || !d.tensorrt?.version || !d.version) {
    throw new BackendUnavailableError('native', d.reasons.length ? d.reasons : [{ cause: 'TensorRT did not report its version', fix: 'reinstall TensorRT' }]);
  }
  const tensorrt = d.binding.tensorrt;
  const v = parseTensorRtVersion(d.tensorrt.version);
  const flagBits = builderFlagBits(v.major)!;
  const logSeverity = options.logSeverity ?? Severity.INFO;
  const logBridges = new LogBridges(tensorrt, logSeverity);
  const defaultLogger = options.logger ?? new ConsoleLogger(Severity.WARNING);
  const parserProblem = d.notes.map((n) => n.cause).join('; ') || undefined;
  const ctx: NativeContext = {
    tensorrt,
    device: new NativeDeviceApi(d.binding.cuda),
    version: d.version,
    major: v.major,
    flagBits,
    logBridges,
    defaultLogger,
    logSeverity,
    dynamicDims,
    parserAvailable: d.tensorrt.parserAvailable,
    parserProblem,
    logFor: (logger) => logBridges.for(logger ?? defaultLogger),
  };
  return withFacades(new NativeBackend(ctx));
}

/**
 * CUDA device memory and streams alone (no TensorRT needed): e.g. to stage weights in device memory for a refit
 * done elsewhere, or to test a machine's CUDA setup. Throws BackendUnavailableError when the addon or CUDA is
 * missing.
 */
export function loadNativeDevice(options: Pick<NativeBackendOptions, 'addonPath' | 'binding' | 'env'> = {}): NativeDeviceApi {
  let binding = options.binding;
  if (!binding) {
    const r = loadBinding(options.addonPath, options.env ?? process.env);
    if (!r.ok) {
      throw new BackendUnavailableError('native device', [{ cause: `the native addon is not built (looked for ${r.attempts.map((a) => a.path).join(', ')})`, fix: BUILD_FIX }]);
    }
    binding = r.binding;
  }
  const status = binding.cuda.status();
  if (!status.loaded || status.deviceError || !status.deviceCount) {
    throw new BackendUnavailableError('native device', [
      status.loaded
        ? { cause: `no usable CUDA device: ${status.deviceError ?? 'none found'}`, fix: 'install an NVIDIA driver and check CUDA_VISIBLE_DEVICES' }
        : { cause: `the CUDA runtime was not found: ${status.loadErrors.join('; ')}`, fix: 'install the CUDA runtime or set CUDA_PATH / TRT_REFIT_CUDART_PATH' },
    ]);
  }
  return new NativeDeviceApi(binding.cuda);
}
