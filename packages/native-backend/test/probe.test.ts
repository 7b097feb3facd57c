import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BackendUnavailableError, TrtRefitErrorCode } from '@trt-refit/core';
import { addonCandidates, diagnoseNativeBackend, loadNativeBackend, nativeBuildCommand, probeNativeBackend } from '../src/index.js';
import { fakeBinding } from './fake-binding.js';

const causes = (r: { reasons: { cause: string }[] }) => r.reasons.map((x) => x.cause).join('\n');

describe('probeNativeBackend / loadNativeBackend', () => {
  it('is available with CUDA, a device and a loadable TensorRT, reporting the loaded version', () => {
    const probe = probeNativeBackend({ binding: fakeBinding({ version: '10.16.1.3' }), env: {} });
    expect(probe).toEqual({ name: 'native', available: true, version: '10.16.1', reasons: [] });
    const backend = loadNativeBackend({ binding: fakeBinding({ version: '11.1.0.106' }), env: {} });
    expect(backend.name).toBe('native');
    expect(backend.tensorrtVersion).toBe('11.1');
  });

  it('an addon that is not built is one reason with the build command as its fix', () => {
    const dir = mkdtempSync(join(tmpdir(), 'trt-refit-noaddon-'));
    const probe = probeNativeBackend({ addonPath: join(dir, 'trt_refit_native.node'), env: {} });
    expect(probe.available).toBe(false);
    expect(probe.reasons).toHaveLength(1);
    expect(probe.reasons[0]!.cause).toMatch(/native addon is not built.*trt_refit_native\.node \(not found\)/);
    expect(probe.reasons[0]!.fix).toMatch(/node \S*scripts\/build-native\.mjs/);
  });

  it('the printed build command runs as printed, from any folder (here: its --help, which builds nothing)', () => {
    const command = nativeBuildCommand();
    expect(command).toMatch(/^node \S+\/scripts\/build-native\.mjs$/);
    const r = spawnSync(`${command} --help`, { shell: true, cwd: tmpdir(), encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Builds the trt-refit addon with cmake-js/);
    expect(nativeBuildCommand('TENSORRT_ROOT=/opt/trt ')).toMatch(/^TENSORRT_ROOT=\/opt\/trt node /);
  });

  it('an explicit addon path or TRT_REFIT_NATIVE_ADDON is the only candidate; otherwise the build folders are', () => {
    expect(addonCandidates('/x/a.node', {})).toEqual(['/x/a.node']);
    expect(addonCandidates(undefined, { TRT_REFIT_NATIVE_ADDON: '/y/b.node' })).toEqual(['/y/b.node']);
    const c = addonCandidates(undefined, { TRT_REFIT_BUILD_DIR: '/z' });
    expect(c.slice(0, 2)).toEqual(['/z/Release/trt_refit_native.node', '/z/Debug/trt_refit_native.node']);
    expect(c.at(-2)).toMatch(/native-backend\/build\/Release\/trt_refit_native\.node$/);
  });

  it('lists every cause at once: no CUDA device and TensorRT not compiled in', () => {
    const d = diagnoseNativeBackend({ binding: fakeBinding({ noTensorRt: true, cuda: { deviceCount: 0, deviceError: 'cudaGetDeviceCount: cudaErrorInsufficientDriver', driverVersion: 'none' } }), env: {} });
    expect(d.reasons).toHaveLength(2);
    expect(causes(d)).toMatch(/no usable CUDA device: cudaGetDeviceCount: cudaErrorInsufficientDriver \(no NVIDIA driver\)/);
    expect(causes(d)).toMatch(/built without TensorRT support/);
    expect(d.reasons[1]!.fix).toMatch(/TENSORRT_ROOT/);
  });

  it('a missing CUDA runtime names every candidate that failed', () => {
    const d = diagnoseNativeBackend({ binding: fakeBinding({ cuda: { loaded: false, loadErrors: ['/usr/local/cuda/lib64/libcudart.so.13: not found', 'libcudart.so.13: not found'] } }), env: {} });
    expect(causes(d)).toMatch(/CUDA 13 runtime \(libcudart\) was not found: \/usr\/local\/cuda.*; libcudart\.so\.13: not found/);
    expect(d.reasons[0]!.fix).toMatch(/TRT_REFIT_CUDART_PATH/);
  });

  it('TensorRT not found, of another major, or older than the headers: each with the right fix', () => {
    const notFound = diagnoseNativeBackend({ binding: fakeBinding({ load: { ok: false, errors: ['libnvinfer.so.10: cannot open shared object file'], version: undefined } }), env: { TRT_REFIT_TENSORRT_LIB_DIR: '/opt/trt/lib' } });
    expect(causes(notFound)).toMatch(/TensorRT 10 \(libnvinfer\.so\.10\) could not be loaded/);
    expect(notFound.reasons[0]!.fix).toMatch(/TRT_REFIT_TENSORRT_LIB_DIR \(now \/opt\/trt\/lib\)/);
    const major = diagnoseNativeBackend({
      binding: fakeBinding({ load: { ok: false, errors: ['/opt/libnvinfer.so.10 is TensorRT 11.1.0 but the addon was compiled against TensorRT 10.16.0 headers; the ABI differs between majors'], version: '11.1.0' } }),
      env: {},
    });
    expect(major.reasons).toHaveLength(1);
    expect(major.reasons[0]!.fix).toMatch(/rebuild the addon against the installed TensorRT's headers/);
    const older = diagnoseNativeBackend({ binding: fakeBinding({ load: { ok: false, errors: ['x is TensorRT 10.8.0, older than the TensorRT 10.16.0 headers'] } }), env: {} });
    expect(older.reasons[0]!.fix).toMatch(/TENSORRT_ROOT/);
  });

  it('the library folder comes from the option, else TRT_REFIT_TENSORRT_LIB_DIR', () => {
    const seen: (string | null)[] = [];
    const binding = fakeBinding();
    const load = binding.tensorrt!.load;
    (binding.tensorrt as { load: typeof load }).load = (dir) => (seen.push(dir), load(dir));
    diagnoseNativeBackend({ binding, env: { TRT_REFIT_TENSORRT_LIB_DIR: '/env/lib' } });
    diagnoseNativeBackend({ binding, env: {}, tensorrtLibDir: '/opt/lib' });
    diagnoseNativeBackend({ binding, env: {} });
    expect(seen).toEqual(['/env/lib', '/opt/lib', null]);
  });

  it('a missing ONNX parser library is a note, not a blocker', () => {
    const probe = probeNativeBackend({ binding: fakeBinding({ load: { parserAvailable: false, parserErrors: ['libnvonnxparser.so.10: not found'] } }), env: {} });
    expect(probe.available).toBe(true);
    expect(probe.reasons[0]!.cause).toMatch(/ONNX parser.*libnvonnxparser\.so\.10: not found/);
  });

  it('a requested version must match the loaded one', () => {
    const d = diagnoseNativeBackend({ binding: fakeBinding({ version: '10.16.1' }), tensorrtVersion: '10.13', env: {} });
    expect(causes(d)).toMatch(/TensorRT 10\.13 was requested but 10\.16\.1 is installed/);
    expect(diagnoseNativeBackend({ binding: fakeBinding({ version: '10.16.1' }), tensorrtVersion: '10.16', env: {} }).reasons).toEqual([]);
  });

  it('a major whose flag numbers trt-refit does not know is refused', () => {
    expect(causes(diagnoseNativeBackend({ binding: fakeBinding({ version: '12.0.0' }), env: {} }))).toMatch(/BuilderFlag numbers of TensorRT 10 and 11 only/);
  });

  it('loadNativeBackend throws one BackendUnavailableError listing every cause and fix', () => {
    let error: unknown;
    try {
      loadNativeBackend({ binding: fakeBinding({ noTensorRt: true, cuda: { deviceCount: 0, deviceError: 'no device' } }), env: {} });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BackendUnavailableError);
    const e = error as BackendUnavailableError;
    expect(e.code).toBe(TrtRefitErrorCode.BACKEND_UNAVAILABLE);
    expect(e.reasons).toHaveLength(2);
    expect(e.message).toMatch(/no usable CUDA device[\s\S]*fix:[\s\S]*without TensorRT support[\s\S]*fix:/);
  });

  it('validates dynamicDims before anything is loaded', () => {
    expect(() => loadNativeBackend({ binding: fakeBinding(), env: {}, dynamicDims: { min: 4, opt: 2, max: 8 } })).toThrow(RangeError);
  });
});
