import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CollectingErrorRecorder,
  DataType,
  ErrorCode,
  MemoryLogger,
  NULL_WEIGHTS,
  RefitState,
  TrtRefitErrorCode,
  TensorLocation,
  WeightsRole,
  type DeviceBuffer,
  type WeightInfo,
  type WeightInventory,
  type Weights,
} from '@trt-refit/core';

const info = (name: string, count: number, layer = name.split('.')[0]!, role: WeightsRole = WeightsRole.KERNEL, dtype: DataType = DataType.FLOAT): WeightInfo => ({ name, dtype, count, dims: [count], role, layer });
const f32 = (n: number, fill = 0): Weights => ({ type: DataType.FLOAT, values: new Float32Array(n).fill(fill), count: n });

/** conv (kernel+bias) fused with bn (scale+shift); fc weight+bias fused; a lonely constant. */
const INVENTORY: WeightInventory = {
  weights: [
    info('conv.w', 8, 'conv', WeightsRole.KERNEL),
    info('conv.b', 2, 'conv', WeightsRole.BIAS),
    info('bn.scale', 2, 'bn', WeightsRole.SCALE),
    info('bn.shift', 2, 'bn', WeightsRole.SHIFT),
    info('fc.w', 6, 'fc', WeightsRole.CONSTANT),
    info('fc.b', 3, 'fc_bias', WeightsRole.CONSTANT),
    info('emb', 4, 'emb', WeightsRole.CONSTANT),
    info('half', 4, 'h', WeightsRole.CONSTANT, DataType.HALF),
  ],
  fusionGroups: [['conv.w', 'conv.b', 'bn.scale', 'bn.shift'], ['fc.w', 'fc.b', 'not.refittable']],
  stripped: [],
};

function make(inv: WeightInventory = INVENTORY) {
  const logger = new MemoryLogger();
  const recorder = new CollectingErrorRecorder();
  const state = new RefitState(inv, { logger, errorRecorder: recorder });
  return { state, logger, recorder };
}

function fakeDevice(byteLength: number): DeviceBuffer {
  return { byteLength, deviceId: -1, disposed: false, upload() {}, uploadAsync: async () => {}, download: () => new Uint8Array(byteLength), downloadAsync: async () => new Uint8Array(byteLength), dispose() { (this as { disposed: boolean }).disposed = true; } };
}

describe('RefitState: setNamedWeights', () => {
  it('accepts the prototype and holds the caller buffer by reference (never a copy)', () => {
    const { state } = make();
    const w = f32(8, 1);
    expect(state.setNamedWeights('conv.w', w)).toBe(true);
    expect(state.getNamedWeights('conv.w')).toBe(w);
    (w.values as Float32Array)[0] = 42;
    expect((state.getNamedWeights('conv.w').values as Float32Array)[0]).toBe(42);
  });
  it.each([
    ['an unknown name', 'nope', f32(8), /does not correspond to any refittable weights/],
    ['another count', 'conv.w', f32(7), /count 7 is inconsistent with the prototype's count 8/],
    ['another type', 'conv.w', { type: DataType.HALF, values: new Uint16Array(8), count: 8 }, /type HALF is inconsistent with the prototype's type FLOAT/],
    ['a count that disagrees with the buffer', 'conv.w', { type: DataType.FLOAT, values: new Float32Array(2), count: 8 }, /need 32 bytes/],
    ['an empty name', '', f32(8), /non-empty string/],
    ['an over-long name', 'x'.repeat(4096), f32(8), /longer than 4095 bytes/],
  ] as const)('refuses %s with false, an ERROR log line and an INVALID_ARGUMENT record', (_label, name, w, why) => {
    const { state, logger, recorder } = make();
    expect(state.setNamedWeights(name, w as Weights)).toBe(false);
    expect(logger.errors().join('\n')).toMatch(why);
    expect(recorder.getNbErrors()).toBe(1);
    expect(recorder.getErrorCode(0)).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(recorder.getErrorDesc(0)).toMatch(why);
  });
  it('a refused set leaves earlier weights in place', () => {
    const { state } = make();
    const w = f32(8);
    state.setNamedWeights('conv.w', w);
    state.setNamedWeights('conv.w', f32(3));
    expect(state.getNamedWeights('conv.w')).toBe(w);
  });
  it('DEVICE needs a device buffer and HOST host values', () => {
    const { state } = make();
    const dev = fakeDevice(64);
    expect(state.setNamedWeights('conv.w', { type: DataType.FLOAT, values: dev, count: 8 }, TensorLocation.DEVICE)).toBe(true);
    expect(state.getWeightsLocation('conv.w')).toBe(TensorLocation.DEVICE);
    expect(state.getNamedWeights('conv.w').values).toBe(dev);
    expect(state.setNamedWeights('conv.b', f32(2), TensorLocation.DEVICE)).toBe(false);
    expect(state.setNamedWeights('conv.b', { type: DataType.FLOAT, values: fakeDevice(8), count: 2 }, TensorLocation.HOST)).toBe(false);
    expect(state.setNamedWeights('conv.b', f32(2), 'ELSEWHERE' as TensorLocation)).toBe(false);
  });
  it('host and device weights mix freely', () => {
    const { state } = make();
    state.setNamedWeights('conv.w', { type: DataType.FLOAT, values: fakeDevice(32), count: 8 }, TensorLocation.DEVICE);
    state.setNamedWeights('conv.b', f32(2));
    expect(state.getWeightsLocation('conv.b')).toBe(TensorLocation.HOST);
    expect(state.getWeightsLocation('conv.w')).toBe(TensorLocation.DEVICE);
  });
});

describe('RefitState: host values in any view of the right bytes', () => {
  it('the usual typed array, a subclass (Buffer), another view of the same bytes (Uint8Array, DataView) and an offset view are accepted', () => {
    const { state, logger } = make();
    expect(state.setNamedWeights('conv.w', f32(8))).toBe(true); // Float32Array: the usual view of FLOAT
    expect(state.setNamedWeights('conv.b', { type: DataType.FLOAT, values: new Uint8Array(8), count: 2 })).toBe(true);
    expect(state.setNamedWeights('bn.scale', { type: DataType.FLOAT, values: new DataView(new ArrayBuffer(8)), count: 2 })).toBe(true);
    expect(state.setNamedWeights('bn.shift', { type: DataType.FLOAT, values: Buffer.alloc(8), count: 2 })).toBe(true);
    expect(state.setNamedWeights('fc.w', { type: DataType.FLOAT, values: new Float32Array(new ArrayBuffer(40), 16, 6), count: 6 })).toBe(true);
    expect(state.setNamedWeights('half', { type: DataType.HALF, values: new Uint16Array(4), count: 4 })).toBe(true);
    expect(state.setNamedWeights('half', { type: DataType.HALF, values: new Int16Array(4), count: 4 })).toBe(true);
    expect(logger.errors()).toEqual([]);
  });
  it('a view of the usual type but the wrong length, or of another element size with the count as its length, is refused', () => {
    const { state, logger } = make();
    expect(state.setNamedWeights('conv.w', { type: DataType.FLOAT, values: new Float32Array(9), count: 8 })).toBe(false);
    expect(state.setNamedWeights('conv.w', { type: DataType.FLOAT, values: new Uint8Array(8), count: 8 })).toBe(false); // 8 bytes, not 32
    expect(state.setNamedWeights('conv.w', { type: DataType.FLOAT, values: new Float64Array(8), count: 8 })).toBe(false); // 64 bytes
    expect(state.setNamedWeights('half', { type: DataType.HALF, values: new Float32Array(4), count: 4 })).toBe(false);
    expect(logger.errors()).toEqual([
      'setNamedWeights(conv.w): weights of type FLOAT with count 8 need 32 bytes, but values has 36 bytes',
      'setNamedWeights(conv.w): weights of type FLOAT with count 8 need 32 bytes, but values has 8 bytes',
      'setNamedWeights(conv.w): weights of type FLOAT with count 8 need 32 bytes, but values has 64 bytes',
      'setNamedWeights(half): weights of type HALF with count 4 need 8 bytes, but values has 16 bytes',
    ]);
  });
  it('a view that only pretends to be the usual one (prototype swapped, length shadowed) is caught before a refit applies anything', () => {
    const { state, logger } = make();
    const swapped = Object.setPrototypeOf(new Uint8Array(8), Float32Array.prototype) as Float32Array; // 8 bytes posing as 8 floats
    const shadowed = Object.defineProperty(new Float32Array(2), 'length', { value: 6 }); // 2 floats claiming 6
    for (const [w, n] of [['conv.b', 2], ['bn.scale', 2], ['bn.shift', 2], ['fc.b', 3]] as const) expect(state.setNamedWeights(w, f32(n))).toBe(true);
    // whether the set itself sees through them is not promised (the fast path of a set trusts instanceof and length)
    state.setNamedWeights('conv.w', { type: DataType.FLOAT, values: swapped, count: 8 });
    state.setNamedWeights('fc.w', { type: DataType.FLOAT, values: shadowed, count: 6 });
    expect(state.getMissingWeights()).toEqual([]);
    const plan = state.planRefit();
    expect(plan.ok).toBe(false);
    expect(plan.ok ? [] : plan.reasons).toEqual([
      'refit: weights set for conv.w are no longer valid: weights of type FLOAT with count 8 need 32 bytes, but values has 8 bytes',
      'refit: weights set for fc.w are no longer valid: weights of type FLOAT with count 6 need 24 bytes, but values has 8 bytes',
    ]);
    expect(logger.errors()).toHaveLength(2);
  });
});

describe('RefitState: sets in the engine order, out of it, and by names that are other strings', () => {
  it('every order of sets lands each weight at its own name (the next-weight guess never misplaces one)', () => {
    const names = INVENTORY.weights.map((w) => w.name);
    const sizes = new Map(INVENTORY.weights.map((w) => [w.name, w.count]));
    const orders = [names, [...names].reverse(), ['fc.w', 'fc.b', 'conv.w', 'conv.b', 'bn.scale', 'emb', 'bn.shift', 'half'], ['conv.b', 'conv.w', 'conv.b', 'emb', 'half', 'bn.scale', 'bn.shift', 'fc.b', 'fc.w']];
    for (const order of orders) {
      const { state } = make();
      const given = new Map<string, Weights>();
      for (const name of order) {
        const copy = Buffer.from(name, 'latin1').toString('latin1'); // the same name, another string object
        const n = sizes.get(name)!;
        const w: Weights = name === 'half' ? { type: DataType.HALF, values: new Uint16Array(n), count: n } : f32(n, given.size);
        expect(state.setNamedWeights(copy, w), name).toBe(true);
        given.set(name, w);
      }
      for (const [name, w] of given) expect(state.getNamedWeights(name), `${order.join(',')}: ${name}`).toBe(w);
      expect(state.setEntries().map((e) => e.name)).toEqual(names); // engine order, each once
    }
  });
  it('after an unknown name or a refused set the next guess is still right', () => {
    const { state } = make();
    expect(state.setNamedWeights('conv.w', f32(8))).toBe(true);
    expect(state.setNamedWeights('nope', f32(2))).toBe(false);
    expect(state.setNamedWeights('conv.b', f32(3))).toBe(false); // wrong count for conv.b
    expect(state.setNamedWeights('conv.b', f32(2, 7))).toBe(true);
    expect((state.getNamedWeights('conv.b').values as Float32Array)[0]).toBe(7);
    expect(state.getMissingWeights()).toEqual(['bn.scale', 'bn.shift']);
  });
});

describe('RefitState: the set weights (flat storage)', () => {
  it('null or non-object weights are refused with a reason, never a throw', () => {
    const { state, logger } = make();
    for (const bad of [null, undefined, 3, 'x']) expect(state.setNamedWeights('conv.w', bad as unknown as Weights)).toBe(false);
    expect(logger.messages.filter((e) => /weights must be an object/.test(e.message))).toHaveLength(4);
    expect(state.setEntries()).toEqual([]);
  });
  it('set, reset, unset and a location change keep the entries, locations and missing set consistent (engine order)', () => {
    const { state } = make();
    const dev = fakeDevice(24);
    expect(state.setNamedWeights('fc.b', f32(3))).toBe(true);
    expect(state.setNamedWeights('conv.w', f32(8))).toBe(true);
    expect(state.setNamedWeights('fc.w', { type: DataType.FLOAT, values: dev, count: 6 }, TensorLocation.DEVICE)).toBe(true);
    expect(state.setEntries().map((e) => [e.name, e.location])).toEqual([['conv.w', TensorLocation.HOST], ['fc.w', TensorLocation.DEVICE], ['fc.b', TensorLocation.HOST]]);
    expect(state.getMissingWeights()).toEqual(['conv.b', 'bn.scale', 'bn.shift']);
    const again = f32(6, 2);
    expect(state.setNamedWeights('fc.w', again)).toBe(true); // DEVICE → HOST
    expect(state.getWeightsLocation('fc.w')).toBe(TensorLocation.HOST);
    expect(state.getNamedWeights('fc.w')).toBe(again);
    expect(state.unsetNamedWeights('conv.w')).toBe(true);
    expect(state.unsetNamedWeights('conv.w')).toBe(false);
    expect(state.setEntries().map((e) => e.name)).toEqual(['fc.w', 'fc.b']);
    expect(state.getMissingWeights()).toEqual([]);
    expect(state.getNamedWeights('conv.w')).toBe(NULL_WEIGHTS);
  });
});

describe('RefitState: get, location, unset, prototype, all', () => {
  it('getNamedWeights and getWeightsLocation of a never-set name report an error and return null weights / HOST', () => {
    const { state, recorder } = make();
    expect(state.getNamedWeights('conv.w')).toBe(NULL_WEIGHTS);
    expect(state.getWeightsLocation('conv.w')).toBe(TensorLocation.HOST);
    expect(state.getNamedWeights('nope')).toEqual({ type: DataType.FLOAT, values: null, count: 0 });
    expect(recorder.getNbErrors()).toBe(3);
  });
  it('unset is true once, then false; never-set and unknown names are false', () => {
    const { state } = make();
    state.setNamedWeights('emb', f32(4));
    expect(state.unsetNamedWeights('emb')).toBe(true);
    expect(state.unsetNamedWeights('emb')).toBe(false);
    expect(state.unsetNamedWeights('conv.w')).toBe(false);
    expect(state.unsetNamedWeights('nope')).toBe(false);
    expect(state.getNamedWeights('emb').values).toBeNull();
  });
  it('prototypes give type and count; -1 for unknown names', () => {
    const { state } = make();
    expect(state.getWeightsPrototype('half')).toEqual({ type: DataType.HALF, count: 4 });
    expect(state.getWeightsPrototype('nope').count).toBe(-1);
    expect(state.getWeightsPrototype(undefined as unknown as string).count).toBe(-1);
  });
  it('getAllWeights lists the inventory in order', () => {
    expect(make().state.getAllWeights()).toEqual(INVENTORY.weights.map((w) => w.name));
  });
});

describe('RefitState: missing weights', () => {
  it('nothing is missing before anything is set (engine not stripped)', () => {
    expect(make().state.getMissingWeights()).toEqual([]);
  });
  it('setting one weight of a fusion group makes exactly the rest of the group missing', () => {
    const { state } = make();
    state.setNamedWeights('conv.w', f32(8));
    expect(state.getMissingWeights()).toEqual(['conv.b', 'bn.scale', 'bn.shift']);
    state.setNamedWeights('bn.shift', f32(2));
    expect(state.getMissingWeights()).toEqual(['conv.b', 'bn.scale']);
  });
  it('non-refittable members of a fusion group are not reported', () => {
    const { state } = make();
    state.setNamedWeights('fc.b', f32(3));
    expect(state.getMissingWeights()).toEqual(['fc.w']);
  });
  it('a weight outside any group never makes others missing', () => {
    const { state } = make();
    state.setNamedWeights('emb', f32(4));
    expect(state.getMissingWeights()).toEqual([]);
  });
  it('unsetting brings missing weights back', () => {
    const { state } = make();
    state.setNamedWeights('fc.w', f32(6));
    state.setNamedWeights('fc.b', f32(3));
    expect(state.getMissingWeights()).toEqual([]);
    state.unsetNamedWeights('fc.b');
    expect(state.getMissingWeights()).toEqual(['fc.b']);
  });
  it('every stripped weight that is not set is missing; a committed refit fills them', () => {
    const { state } = make({ ...INVENTORY, stripped: ['conv.w', 'conv.b', 'bn.scale', 'bn.shift', 'emb'] });
    expect(state.getMissingWeights()).toEqual(['conv.w', 'conv.b', 'bn.scale', 'bn.shift', 'emb']);
    state.setNamedWeights('emb', f32(4));
    expect(state.getMissingWeights()).toEqual(['conv.w', 'conv.b', 'bn.scale', 'bn.shift']);
    expect(state.isStripped('emb')).toBe(true);
    state.commitRefit(['emb']);
    expect(state.isStripped('emb')).toBe(false);
    state.unsetNamedWeights('emb');
    expect(state.getMissingWeights()).not.toContain('emb');
    expect(state.strippedNames()).toEqual(['conv.w', 'conv.b', 'bn.scale', 'bn.shift']);
  });
  it('the returned list is a copy: callers cannot corrupt the cache', () => {
    const { state } = make();
    state.setNamedWeights('conv.w', f32(8));
    state.getMissingWeights().length = 0;
    expect(state.getMissingWeights()).toHaveLength(3);
  });
  it('overlapping groups merge into one component', () => {
    const inv: WeightInventory = { weights: ['a', 'b', 'c', 'd'].map((n) => info(n, 1)), fusionGroups: [['a', 'b'], ['b', 'c']], stripped: [] };
    const { state } = make(inv);
    state.setNamedWeights('a', f32(1));
    expect(state.getMissingWeights()).toEqual(['b', 'c']);
  });
});

describe('RefitState: planning a refit', () => {
  it('is refused while anything is missing, with the names, logged and recorded', () => {
    const { state, logger, recorder } = make();
    state.setNamedWeights('conv.w', f32(8));
    const plan = state.planRefit();
    expect(plan.ok).toBe(false);
    expect(!plan.ok && plan.reasons[0]).toMatch(/3 weight\(s\) missing: conv\.b, bn\.scale, bn\.shift/);
    expect(logger.errors().join()).toMatch(/missing/);
    expect(recorder.getErrorCode(0)).toBe(ErrorCode.INVALID_STATE);
  });
  it('gives every set weight once complete (set once, refit again)', () => {
    const { state } = make();
    const w = f32(6);
    state.setNamedWeights('fc.w', w);
    state.setNamedWeights('fc.b', f32(3));
    const first = state.planRefit();
    expect(first.ok && first.updates.map((u) => u.name).sort()).toEqual(['fc.b', 'fc.w']);
    const again = state.planRefit();
    expect(again.ok && again.updates.find((u) => u.name === 'fc.w')?.weights).toBe(w);
  });
  it('weights validation is TensorRT\'s: weights kept in their own type are not inspected (NaN refits)', () => {
    const { state, logger } = make();
    state.setNamedWeights('emb', { type: DataType.FLOAT, values: new Float32Array([1, NaN, Infinity, 1e30]), count: 4 });
    expect(state.getWeightsValidation()).toBe(true); // TensorRT's default
    const plan = state.planRefit();
    expect(plan.ok, !plan.ok ? plan.reasons.join() : '').toBe(true);
    expect(logger.messages.filter((m) => m.severity === 'WARNING')).toEqual([]);
  });
  it('FLOAT weights the engine keeps as HALF or BF16: overflows of the narrowing are a warning, the refit goes on; none with validation off', () => {
    const logger = new MemoryLogger();
    const weights = [
      { name: 'h', dtype: DataType.FLOAT, count: 5, dims: [5], role: WeightsRole.KERNEL, layer: 'a', engineType: DataType.HALF },
      { name: 'b', dtype: DataType.FLOAT, count: 3, dims: [3], role: WeightsRole.KERNEL, layer: 'b', engineType: DataType.BF16 },
    ];
    const state = new RefitState({ weights, fusionGroups: [], stripped: [] }, { logger });
    state.setNamedWeights('h', { type: DataType.FLOAT, values: new Float32Array([65504, 65519, 65520, -1e6, NaN]), count: 5 });
    state.setNamedWeights('b', { type: DataType.FLOAT, values: new Float32Array([3e38, 3.4e38, -Infinity]), count: 3 });
    expect(state.planRefit().ok).toBe(true);
    const warnings = logger.messages.filter((m) => m.severity === 'WARNING').map((m) => m.message);
    expect(warnings).toEqual([
      'refit: weights validation: 2 value(s) of h overflow the conversion from FLOAT to HALF (they become infinite)',
      'refit: weights validation: 1 value(s) of b overflow the conversion from FLOAT to BF16 (they become infinite)',
    ]);
    logger.clear();
    state.setWeightsValidation(false);
    expect(state.planRefit().ok).toBe(true);
    expect(logger.messages.filter((m) => m.severity === 'WARNING')).toEqual([]);
  });
  it('counts every narrowing overflow exactly in large weights, aligned or not (the blocked scan), property-based', () => {
    const n = 200_003; // several 64K blocks and a ragged end
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(n - 1), fc.constantFrom(NaN, Infinity, 70000, -1e9, 65519)), { maxLength: 40 }), fc.boolean(), (bad, unaligned) => {
        const values = new Float32Array(n).map((_, i) => Math.sin(i) * 60000);
        for (const [i, v] of bad) values[i] = v;
        const over = values.reduce((c, x) => c + (Number.isFinite(x) && Math.abs(x) >= 65520 ? 1 : 0), 0);
        let given: ArrayBufferView = values;
        if (unaligned) {
          const bytes = new Uint8Array(4 * n + 1);
          bytes.set(new Uint8Array(values.buffer), 1);
          given = bytes.subarray(1);
        }
        const logger = new MemoryLogger();
        const state = new RefitState({ weights: [{ name: 'w', dtype: DataType.FLOAT, count: n, dims: [n], role: WeightsRole.CONSTANT, layer: 'l', engineType: DataType.HALF }], fusionGroups: [], stripped: [] }, { logger });
        state.setNamedWeights('w', { type: DataType.FLOAT, values: given, count: n });
        expect(state.planRefit().ok).toBe(true);
        const warned = logger.messages.find((m) => m.severity === 'WARNING')?.message;
        expect(warned).toBe(over ? `refit: weights validation: ${over} value(s) of w overflow the conversion from FLOAT to HALF (they become infinite)` : undefined);
      }),
      { numRuns: 60 },
    );
  });
  it('refuses weights whose buffer was detached after set, and device buffers disposed after set', () => {
    const { state } = make();
    const values = new Float32Array(4);
    state.setNamedWeights('emb', { type: DataType.FLOAT, values, count: 4 });
    structuredClone(values.buffer, { transfer: [values.buffer] });
    const plan = state.planRefit();
    expect(!plan.ok && plan.reasons.join()).toMatch(/emb are no longer valid/);
    state.unsetNamedWeights('emb');
    const dev = fakeDevice(32);
    state.setNamedWeights('conv.w', { type: DataType.FLOAT, values: dev, count: 8 }, TensorLocation.DEVICE);
    for (const n of ['conv.b', 'bn.scale', 'bn.shift']) state.setNamedWeights(n, f32(2));
    expect(state.planRefit().ok).toBe(true);
    dev.dispose();
    expect(state.planRefit().ok).toBe(false);
  });
});

describe('RefitState: legacy layer + role API', () => {
  it('setWeights maps (layer, role) to the named weights', () => {
    const { state } = make();
    expect(state.setWeights('bn', WeightsRole.SCALE, f32(2))).toBe(true);
    expect(state.getNamedWeights('bn.scale').count).toBe(2);
    expect(state.setWeights('bn', WeightsRole.KERNEL, f32(2))).toBe(false);
    expect(state.setWeights('nope', WeightsRole.SCALE, f32(2))).toBe(false);
  });
  it('getMissing and getAll give (layer, role) pairs', () => {
    const { state } = make();
    state.setWeights('bn', WeightsRole.SHIFT, f32(2));
    expect(state.getMissing()).toEqual([
      { layerName: 'conv', role: 'KERNEL' },
      { layerName: 'conv', role: 'BIAS' },
      { layerName: 'bn', role: 'SCALE' },
    ]);
    expect(state.getAll()).toHaveLength(INVENTORY.weights.length);
  });
});

describe('RefitState: threads, recorder, logger', () => {
  it('max threads default to 1; below 1 or fractional is refused with INVALID_ARGUMENT', () => {
    const { state, recorder } = make();
    expect(state.getMaxThreads()).toBe(1);
    expect(state.setMaxThreads(8)).toBe(true);
    expect(state.getMaxThreads()).toBe(8);
    expect(state.setMaxThreads(0)).toBe(false);
    expect(state.setMaxThreads(1.5)).toBe(false);
    expect(state.getMaxThreads()).toBe(8);
    expect(recorder.getErrorCode(0)).toBe(ErrorCode.INVALID_ARGUMENT);
  });
  it('validation is on by default', () => {
    expect(make().state.getWeightsValidation()).toBe(true);
  });
  it('the error recorder can be replaced and removed; the logger still hears every reason', () => {
    const { state, logger } = make();
    const other = new CollectingErrorRecorder();
    state.setErrorRecorder(other);
    expect(state.getErrorRecorder()).toBe(other);
    state.setNamedWeights('nope', f32(1));
    expect(other.getNbErrors()).toBe(1);
    state.setErrorRecorder(null);
    expect(state.getErrorRecorder()).toBeNull();
    state.setNamedWeights('nope', f32(1));
    expect(logger.errors()).toHaveLength(2);
    expect(state.getLogger()).toBe(logger);
  });
  it('a full error recorder reports overflow instead of growing', () => {
    const recorder = new CollectingErrorRecorder(2);
    const state = new RefitState(INVENTORY, { errorRecorder: recorder });
    for (let i = 0; i < 5; i++) state.setNamedWeights('nope', f32(1));
    expect(recorder.getNbErrors()).toBe(2);
    expect(recorder.hasOverflowed()).toBe(true);
    recorder.clear();
    expect(recorder.hasOverflowed()).toBe(false);
  });
});

describe('RefitState: partly stripped fusion groups', () => {
  it('a stripped weight fused with a weight that is not stripped brings its partner into the missing set', () => {
    const inv: WeightInventory = { weights: [info('a', 1), info('b', 1)], fusionGroups: [['a', 'b']], stripped: ['a'] };
    const { state } = make(inv);
    expect(state.getMissingWeights()).toEqual(['a', 'b']);
    state.setNamedWeights('a', f32(1));
    expect(state.getMissingWeights()).toEqual(['b']);
  });
});

describe('RefitState: inventory checks and edges', () => {
  it.each([
    ['a name listed twice', { weights: [info('d', 1), info('d', 2)], fusionGroups: [], stripped: [] }, /d is listed twice/],
    ['an empty name', { weights: [info('', 1)], fusionGroups: [], stripped: [] }, /entry 0 has no name/],
    ['a dtype that is not a DataType', { weights: [{ ...info('d', 1), dtype: 'DOUBLE' as DataType }], fusionGroups: [], stripped: [] }, /dtype DOUBLE/],
    ['a negative count', { weights: [info('d', -1)], fusionGroups: [], stripped: [] }, /count -1/],
  ] as const)('refuses an inventory with %s (typed error)', (_l, inv, why) => {
    expect(() => new RefitState(inv)).toThrow(expect.objectContaining({ code: TrtRefitErrorCode.INVALID_ARGUMENT, message: expect.stringMatching(why) }));
  });
  it('the legacy API refuses a (layer, role) pair that two weights share, naming the way out', () => {
    const inv: WeightInventory = { weights: [info('p', 1, 'L', WeightsRole.ANY), info('q', 1, 'L', WeightsRole.ANY)], fusionGroups: [], stripped: [] };
    const { state, logger } = make(inv);
    expect(state.setWeights('L', WeightsRole.ANY, f32(1))).toBe(false);
    expect(logger.errors().join()).toMatch(/several refittable ANY weights; set them by name/);
    expect(state.setNamedWeights('q', f32(1))).toBe(true);
  });
  it('max threads beyond int32 are refused', () => {
    const { state } = make();
    expect(state.setMaxThreads(2 ** 31)).toBe(false);
    expect(state.setMaxThreads(2 ** 31 - 1)).toBe(true);
    expect(state.setMaxThreads(Number.NaN)).toBe(false);
  });
  it('stripped or fused names outside the inventory are ignored (TensorRT never lists them)', () => {
    const { state } = make({ weights: [info('a', 1)], fusionGroups: [['a', 'ghost']], stripped: ['ghost2'] });
    expect(state.getMissingWeights()).toEqual([]);
    expect(state.strippedNames()).toEqual([]);
  });
  it('a refused set does not disturb the missing set', () => {
    const { state } = make();
    state.setNamedWeights('conv.w', f32(8));
    const before = state.getMissingWeights();
    expect(state.setNamedWeights('conv.b', f32(3))).toBe(false);
    expect(state.getMissingWeights()).toEqual(before);
  });
  it('replacing set weights keeps the newest by reference', () => {
    const { state } = make();
    const a = f32(4);
    const b = f32(4);
    state.setNamedWeights('emb', a);
    state.setNamedWeights('emb', b);
    expect(state.getNamedWeights('emb')).toBe(b);
    const plan = state.planRefit();
    expect(plan.ok && plan.updates.map((u) => u.weights)).toEqual([b]);
  });
  it('INT4 weights of an odd count need ceil(count / 2) bytes', () => {
    const { state } = make({ weights: [info('q', 5, 'q', WeightsRole.CONSTANT, DataType.INT4)], fusionGroups: [], stripped: [] });
    expect(state.setNamedWeights('q', { type: DataType.INT4, values: new Uint8Array(2), count: 5 })).toBe(false);
    expect(state.setNamedWeights('q', { type: DataType.INT4, values: new Uint8Array(3), count: 5 })).toBe(true);
  });
  it('commitRefit of names that were never stripped, or are unknown, changes nothing', () => {
    const { state } = make({ ...INVENTORY, stripped: ['emb'] });
    state.commitRefit(['conv.w', 'nope']);
    expect(state.strippedNames()).toEqual(['emb']);
    expect(state.getMissingWeights()).toEqual(['emb']);
  });
});
