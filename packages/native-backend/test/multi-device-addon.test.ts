import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadBinding } from '../src/index.js';

/**
 * The real addon over the fake CUDA runtime (`scripts/fake-cudart.c`) with two devices, in a child process (the addon
 * opens libcudart once per process). The fake is as strict as CUDA about devices: an async copy into memory of one
 * device on a stream of another, or one enqueued while another device is current, fails, and so does recording an
 * event on a stream of another device. So this checks the C++ side of "a device per buffer and stream": every
 * operation makes its object's device current and restores the caller's, the checks of device ordinals, and
 * freePinned. Needs the built addon, a C compiler and the CUDA headers (no GPU); skipped, saying so, otherwise.
 */
const loaded = loadBinding(undefined, { ...process.env, TRT_REFIT_NATIVE_ADDON: '' });
const cudaInclude = join(process.env.CUDA_PATH || '/usr/local/cuda', 'include');
const hasCc = spawnSync('cc', ['--version']).status === 0;
const ready = loaded.ok && hasCc && existsSync(join(cudaInclude, 'cuda_runtime_api.h'));

const child = `
const { createRequire } = require('node:module');
const addon = require(process.env.ADDON);
const cuda = addon.cuda;
const out = {};
const expectThrow = (f, cls) => { try { f(); } catch (e) { return e instanceof cls ? e.message : 'wrong class: ' + e; } return 'did not throw'; };
(async () => {
  out.count = cuda.deviceCount();
  const b1 = cuda.allocate(16, 1);
  const b0 = cuda.allocate(16);
  out.devices = [b1.deviceId, b0.deviceId, cuda.getDevice()];
  const s1 = cuda.createStream(1);
  const s0 = cuda.createStream();
  out.streams = [s1.deviceId, s0.deviceId];
  const pinned = cuda.allocatePinned(16);
  new Uint8Array(pinned).fill(7);
  await b1.uploadAsync(new Uint8Array(pinned), s1);   // pinned source, device 1, while device 0 is current
  await b0.uploadAsync(new Uint8Array(16).fill(3), s0); // pageable (staged), device 0
  const d1 = new Uint8Array(16); await b1.downloadAsync(d1, s1);
  out.roundTrip = [d1[0], b0.download(new Uint8Array(16)) && 0];
  const back = new Uint8Array(16); b0.download(back); out.roundTrip[1] = back[0];
  await s1.synchronize();
  out.currentAfter = cuda.getDevice();
  out.crossStream = expectThrow(() => b1.uploadAsync(new Uint8Array(4), s0), RangeError);
  out.badDevice = expectThrow(() => cuda.allocate(4, 2), RangeError);
  out.badStream = expectThrow(() => cuda.createStream(5), RangeError);
  const e1 = cuda.createEvent(false, 1);
  out.eventOther = expectThrow(() => e1.record(s0), RangeError);
  e1.record(s1); await e1.synchronize();
  out.mem = cuda.memGetInfo(1).total > 0;
  await cuda.synchronizeDevice(1);
  out.freed = [cuda.freePinned(pinned), pinned.byteLength, cuda.freePinned(pinned)];
  out.freeOther = expectThrow(() => cuda.freePinned(new ArrayBuffer(8)), TypeError);
  cuda.setDevice(1);
  out.defaultFollowsSetDevice = cuda.allocate(4).deviceId;
  cuda.setDevice(0);
  for (const x of [b0, b1, s0, s1, e1]) x.dispose();
  console.log(JSON.stringify(out));
})().catch((e) => { console.log(JSON.stringify({ error: String(e && e.stack || e) })); process.exit(1); });
`;

describe.skipIf(!ready)('the built addon over a fake CUDA runtime with two devices (no GPU needed)', () => {
  it('puts each buffer, stream and event on its device, restores the current device, refuses cross-device use', () => {
    const dir = mkdtempSync(join(tmpdir(), 'trt-refit-fake-cuda-'));
    const lib = join(dir, 'libcudart-fake.so');
    execFileSync('cc', ['-shared', '-fPIC', '-O2', `-I${cudaInclude}`, '-o', lib, fileURLToPath(new URL('../scripts/fake-cudart.c', import.meta.url)), '-lpthread']);
    writeFileSync(join(dir, 'child.cjs'), child);
    const r = spawnSync(process.execPath, [join(dir, 'child.cjs')], { encoding: 'utf8', env: { ...process.env, ADDON: loaded.ok ? loaded.path : '', TRT_REFIT_CUDART_PATH: lib, FAKE_CUDA_DEVICES: '2' } });
    const out = JSON.parse(r.stdout.trim().split('\n').pop() || '{}');
    expect(out.error, r.stderr).toBeUndefined();
    expect(out.count).toBe(2);
    expect(out.devices).toEqual([1, 0, 0]);
    expect(out.streams).toEqual([1, 0]);
    expect(out.roundTrip).toEqual([7, 3]);
    expect(out.currentAfter).toBe(0);
    expect(out.crossStream).toMatch(/stream belongs to device 0 but the buffer to device 1/);
    expect(out.badDevice).toMatch(/device must be the ordinal of a CUDA device \(2 devices here\), received 2/);
    expect(out.badStream).toMatch(/received 5/);
    expect(out.eventOther).toMatch(/event to device 1/);
    expect(out.mem).toBe(true);
    expect(out.freed).toEqual([true, 0, false]);
    expect(out.freeOther).toMatch(/allocatePinned/);
    expect(out.defaultFollowsSetDevice).toBe(1);
  });
});

describe.skipIf(ready)('the built addon over a fake CUDA runtime with two devices', () => {
  it.skip('skipped: needs the built addon (npx trt-refit-build-native), a C compiler and the CUDA headers', () => {});
});
