import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  BackendUnavailableError,
  CollectingErrorRecorder,
  DisposedError,
  ErrorCode,
  InvalidFlagsError,
  MemoryLogger,
  NotRefittableError,
  Severity,
  TrtRefitError,
  TrtRefitErrorCode,
  isTrtRefitError,
  maxRelativeError,
  readNpy,
  writeNpy,
} from '@trt-refit/core';

const fixture = (p: string) => new Uint8Array(readFileSync(new URL(`../../../fixtures/${p}`, import.meta.url)));

describe('.npy', () => {
  it('reads the float32 and int64 fixtures with their shapes', () => {
    const input = readNpy(fixture('convbn/input.npy'));
    expect(input.dims).toEqual([2, 3, 16, 16]);
    expect(input.data).toBeInstanceOf(Float32Array);
    expect(input.data.length).toBe(2 * 3 * 16 * 16);
    const ids = readNpy(fixture('tinyxf/ids.npy'));
    expect(ids.dims).toEqual([2, 7]);
    expect(ids.data).toBeInstanceOf(BigInt64Array);
  });
  it('round-trips through writeNpy byte for byte (header padded to 64)', () => {
    const bytes = fixture('convbn/logits_a.npy');
    const t = readNpy(bytes);
    const out = writeNpy(t);
    expect(Buffer.from(out).equals(Buffer.from(bytes))).toBe(true);
    expect(readNpy(writeNpy({ data: new Int32Array([1, 2, 3]), dims: [3] })).data).toEqual(new Int32Array([1, 2, 3]));
  });
  it.each([
    ['bad magic', new Uint8Array(20)],
    ['truncated data', fixture('convbn/input.npy').subarray(0, 1000)],
    ['truncated header', fixture('convbn/input.npy').subarray(0, 40)],
  ])('refuses %s with a typed error', (_l, bytes) => {
    expect(() => readNpy(bytes)).toThrow(expect.objectContaining({ code: TrtRefitErrorCode.INVALID_ARGUMENT }));
  });
  it('refuses Fortran order and unsupported dtypes', () => {
    const f = writeNpy({ data: new Float32Array(2), dims: [2] });
    const text = Buffer.from(f).toString('latin1');
    expect(() => readNpy(Buffer.from(text.replace('False', 'True '), 'latin1'))).toThrow(/Fortran/);
    expect(() => readNpy(Buffer.from(text.replace('<f4', '<f8'), 'latin1'))).toThrow(/<f8 is not supported/);
  });
});

describe('logger and error recorder', () => {
  it('MemoryLogger keeps messages and forwards them', () => {
    const inner = new MemoryLogger();
    const l = new MemoryLogger(inner);
    l.log(Severity.WARNING, 'w');
    l.log(Severity.ERROR, 'e');
    expect(l.errors()).toEqual(['e']);
    expect(inner.messages).toHaveLength(2);
  });
  it('CollectingErrorRecorder answers out-of-range indices safely', () => {
    const r = new CollectingErrorRecorder();
    r.reportError(ErrorCode.INVALID_STATE, 'x');
    expect(r.getErrorCode(5)).toBe(ErrorCode.SUCCESS);
    expect(r.getErrorDesc(-1)).toBe('');
  });
});

describe('typed errors', () => {
  it('carry stable codes and are recognised across copies', () => {
    const errors = [new NotRefittableError(), new DisposedError('engine'), new InvalidFlagsError([{ rule: 'r', message: 'm' }]), new BackendUnavailableError('native', [{ cause: 'no addon', fix: 'build it' }])];
    expect(errors.map((e) => e.code)).toEqual([TrtRefitErrorCode.NOT_REFITTABLE, TrtRefitErrorCode.DISPOSED, TrtRefitErrorCode.INVALID_FLAGS, TrtRefitErrorCode.BACKEND_UNAVAILABLE]);
    for (const e of errors) expect(e).toBeInstanceOf(TrtRefitError);
    const foreign = Object.assign(new Error('x'), { code: 'ERR_TRT_REFIT_DISPOSED' });
    expect(isTrtRefitError(foreign)).toBe(true);
    expect(isTrtRefitError(new Error('x'))).toBe(false);
    expect(errors[3]!.message).toMatch(/no addon\n\s+fix: build it/);
    expect(errors[0]!.name).toBe('NotRefittableError');
  });
});

describe('maxRelativeError', () => {
  it('measures relative error with a floor at 1% of the tensor scale, and Infinity for length or NaN mismatches', () => {
    expect(maxRelativeError([100, 0.0001], [100, 0])).toBeCloseTo(1e-4, 10); // 1e-4 / (1% of 100)
    expect(maxRelativeError([2, 1.1], [2, 1])).toBeCloseTo(0.1, 10);
    expect(maxRelativeError([1, 2], [1, 2])).toBe(0);
    expect(maxRelativeError([1.00001], [1])).toBeCloseTo(1e-5, 10);
    expect(maxRelativeError([1], [1, 2])).toBe(Infinity);
    expect(maxRelativeError([NaN], [1])).toBe(Infinity);
  });
});

describe('.npy from a Node Buffer', () => {
  it('copies the data out of a pooled Buffer (Buffer#slice is a view)', () => {
    const bytes = writeNpy({ data: new BigInt64Array([3n, 4n]), dims: [2] });
    const pooled = Buffer.concat([Buffer.from([1, 2, 3]), Buffer.from(bytes)]).subarray(3);
    expect(Array.from(readNpy(pooled).data as BigInt64Array)).toEqual([3n, 4n]);
  });
});
