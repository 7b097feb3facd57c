import { expect, it } from 'vitest';
import { DataType } from '../data-type.js';
import { BuilderFlag, WeightsRole } from '../enums.js';
import { TrtRefitErrorCode } from '../errors.js';
import type { Backend, CudaEngine } from '../interfaces.js';
import type { NetworkDefinition } from '../network.js';
import type { Weights } from '../weights.js';
import { deserialize, skipTest, type ConformanceContext } from './context.js';
import { maxRelativeError } from '../compare.js';

const C_IN = 2;
const C_OUT = 4;
const HW = 5;

/** Deterministic pseudo-random floats in [-1, 1). */
function floats(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    let term = x;
    let sum = x;
    for (let n = 1; n < 80; n++) {
      term *= (-x * x) / n;
      sum += term / (2 * n + 1);
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  let t = ax;
  for (let k = 60; k >= 1; k--) t = ax + k / 2 / t;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / t;
  return Math.sign(x) * (1 - erfc);
}

/** Conv 3x3 (pad 1) + exact GELU in double precision: the reference the engines must match. */
function reference(x: Float32Array, n: number, kernel: Float32Array, bias: Float32Array): Float32Array {
  const y = new Float32Array(n * C_OUT * HW * HW);
  for (let b = 0; b < n; b++)
    for (let o = 0; o < C_OUT; o++)
      for (let i = 0; i < HW; i++)
        for (let j = 0; j < HW; j++) {
          let acc = bias[o]!;
          for (let c = 0; c < C_IN; c++)
            for (let di = 0; di < 3; di++)
              for (let dj = 0; dj < 3; dj++) {
                const ii = i + di - 1;
                const jj = j + dj - 1;
                if (ii < 0 || jj < 0 || ii >= HW || jj >= HW) continue;
                acc += x[((b * C_IN + c) * HW + ii) * HW + jj]! * kernel[((o * C_IN + c) * 3 + di) * 3 + dj]!;
              }
          y[((b * C_OUT + o) * HW + i) * HW + j] = 0.5 * acc * (1 + erf(acc / Math.SQRT2));
        }
  return y;
}

interface ConvGelu {
  network: NetworkDefinition;
  kernel: Weights;
  bias: Weights;
  constants: Weights[];
}

/** Conv followed by the Erf form of GELU, as exporters write it: x * 0.5 * (1 + erf(x / sqrt(2))). */
function convGelu(backend: Backend): { builder: ReturnType<Backend['createBuilder']> } & ConvGelu {
  const builder = backend.createBuilder();
  const network = builder.createNetwork();
  const kernel: Weights = { type: DataType.FLOAT, values: floats(C_OUT * C_IN * 9, 7), count: C_OUT * C_IN * 9 };
  const bias: Weights = { type: DataType.FLOAT, values: floats(C_OUT, 11), count: C_OUT };
  const scalar = (v: number): Weights => ({ type: DataType.FLOAT, values: new Float32Array([v]), count: 1 });
  const [sqrt2, one, half] = [scalar(Math.SQRT2), scalar(1), scalar(0.5)];
  network.addInput('x', DataType.FLOAT, ['N', C_IN, HW, HW]);
  network.addLayer({
    name: 'conv',
    type: 'Conv',
    inputs: ['x'],
    outputs: ['conv_out'],
    attributes: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1] },
    weights: [
      { role: WeightsRole.KERNEL, weights: kernel, dims: [C_OUT, C_IN, 3, 3] },
      { role: WeightsRole.BIAS, weights: bias, dims: [C_OUT] },
    ],
  });
  network.addConstant('sqrt2', sqrt2, []);
  network.addConstant('one', one, []);
  network.addConstant('half', half, []);
  network.addLayer({ name: 'div', type: 'Div', inputs: ['conv_out', 'sqrt2'], outputs: ['d'] });
  network.addLayer({ name: 'erf', type: 'Erf', inputs: ['d'], outputs: ['e'] });
  network.addLayer({ name: 'add', type: 'Add', inputs: ['e', 'one'], outputs: ['a'] });
  network.addLayer({ name: 'mul', type: 'Mul', inputs: ['conv_out', 'a'], outputs: ['m'] });
  network.addLayer({ name: 'mul_half', type: 'Mul', inputs: ['m', 'half'], outputs: ['y'] });
  network.markOutput('y', DataType.FLOAT, ['N', C_OUT, HW, HW]);
  return { builder, network, kernel, bias, constants: [sqrt2, one, half] };
}

async function build(backend: Backend, flags: BuilderFlag[], mark: boolean): Promise<CudaEngine> {
  const { builder, network, kernel, bias } = convGelu(backend);
  expect(network.setWeightsName(kernel, 'conv.kernel')).toBe(true);
  expect(network.setWeightsName(bias, 'conv.bias')).toBe(true);
  if (mark) {
    expect(network.markWeightsRefittable('conv.kernel')).toBe(true);
    expect(network.markWeightsRefittable('conv.bias')).toBe(true);
  }
  const config = builder.createBuilderConfig();
  config.setFlags(flags);
  const plan = await builder.buildSerializedNetwork(network, config);
  builder.dispose();
  return deserialize(backend, plan);
}

export function individualScenarios(ctx: ConformanceContext): void {
  const N = 2;
  const x = floats(N * C_IN * HW * HW, 3);
  const expected = reference(x, N, floats(C_OUT * C_IN * 9, 7), floats(C_OUT, 11));
  const run = async (engine: CudaEngine) => {
    const c = engine.createExecutionContext();
    const out = Object.values(await c.execute({ x: { data: x, dims: [N, C_IN, HW, HW] } }))[0]!.data as Float32Array;
    c.dispose();
    return out;
  };
  const supported = async (t: { skip: (reason: string) => void }) => {
    const backend = await ctx.factory();
    if (!ctx.caps.handBuiltNetworks) skipTest(t, 'the backend builds engines only through its ONNX parser');
    if (backend.tensorrtVersion.startsWith('10.') && Number(backend.tensorrtVersion.split('.')[1]) < 2) skipTest(t, 'REFIT_INDIVIDUAL needs TensorRT 10.2');
    return backend;
  };

  it('E1: setWeightsName and the marking calls return what TensorRT documents', async (t) => {
    const backend = await supported(t);
    const { network, kernel, bias, constants } = convGelu(backend);
    expect(network.setWeightsName(kernel, 'conv.kernel')).toBe(true);
    expect(network.setWeightsName(kernel, 'conv.kernel')).toBe(true); // same weights, same name
    expect(network.setWeightsName(bias, 'conv.kernel')).toBe(false); // name taken by other weights
    expect(network.setWeightsName({ type: DataType.FLOAT, values: new Float32Array(3), count: 3 }, 'unused')).toBe(false);
    expect(network.setWeightsName({ type: DataType.FLOAT, values: kernel.values, count: 5 }, 'wrong.count')).toBe(false);
    expect(network.setWeightsName(bias, 'conv.bias')).toBe(true);
    expect(network.setWeightsName(constants[0]!, 'gelu.sqrt2')).toBe(true);
    expect(network.markWeightsRefittable('conv.kernel')).toBe(true);
    expect(network.areWeightsMarkedRefittable('conv.kernel')).toBe(true);
    expect(network.areWeightsMarkedRefittable('conv.bias')).toBe(false);
    expect(network.markWeightsRefittable('no.such.weights')).toBe(false);
    expect(network.unmarkWeightsRefittable('no.such.weights')).toBe(false);
    expect(network.areWeightsMarkedRefittable('no.such.weights')).toBe(false);
    expect(network.unmarkWeightsRefittable('conv.kernel')).toBe(true);
    expect(network.areWeightsMarkedRefittable('conv.kernel')).toBe(false);
  });

  it('E2: with REFIT_INDIVIDUAL exactly the marked weights are refittable, and Conv-GELU fuses into fewer layers than with REFIT', async (t) => {
    const backend = await supported(t);
    const individual = await build(backend, [BuilderFlag.REFIT_INDIVIDUAL], true);
    const all = await build(backend, [BuilderFlag.REFIT], false);
    expect(backend.createRefitter(individual).getAllWeights().sort()).toEqual(['conv.bias', 'conv.kernel']);
    expect(backend.createRefitter(all).getAllWeights()).toEqual(expect.arrayContaining(['conv.bias', 'conv.kernel']));
    expect(backend.createRefitter(all).getAllWeights().length).toBeGreaterThan(2); // the GELU constants too
    expect(individual.getLayers().length).toBeLessThan(all.getLayers().length);
    if (ctx.caps.execution) {
      expect(maxRelativeError(await run(individual), expected)).toBeLessThanOrEqual(1e-4);
      expect(maxRelativeError(await run(individual), await run(all))).toBeLessThanOrEqual(ctx.tolerance);
    }
  });

  it('E3: REFIT_INDIVIDUAL with REFIT or REFIT_IDENTICAL is refused at build, naming the rule', async (t) => {
    const backend = await supported(t);
    for (const other of [BuilderFlag.REFIT, BuilderFlag.REFIT_IDENTICAL]) {
      const { builder, network } = convGelu(backend);
      const config = builder.createBuilderConfig();
      config.setFlags([BuilderFlag.REFIT_INDIVIDUAL, other]);
      const error = await builder.buildSerializedNetwork(network, config).then(
        () => undefined,
        (e: unknown) => e as { code?: string; message: string },
      );
      expect(error?.code).toBe(TrtRefitErrorCode.INVALID_FLAGS);
      expect(error?.message).toMatch(/REFIT_INDIVIDUAL/);
      expect(error?.message).toContain(other);
    }
  });

  it('E4: STRIP_PLAN + REFIT_INDIVIDUAL strips exactly the marked weights; refit restores the outputs', async (t) => {
    const backend = await supported(t);
    const engine = await build(backend, [BuilderFlag.STRIP_PLAN, BuilderFlag.REFIT_INDIVIDUAL], true);
    const refitter = backend.createRefitter(engine);
    expect(refitter.getAllWeights().sort()).toEqual(['conv.bias', 'conv.kernel']);
    expect(refitter.getMissingWeights().sort()).toEqual(['conv.bias', 'conv.kernel']);
    if (ctx.caps.execution) expect(Array.from(await run(engine)).every((v) => v === 0)).toBe(true);
    expect(refitter.setNamedWeights('conv.kernel', { type: DataType.FLOAT, values: floats(C_OUT * C_IN * 9, 7), count: C_OUT * C_IN * 9 })).toBe(true);
    expect(refitter.getMissingWeights()).toEqual(['conv.bias']);
    expect(refitter.setNamedWeights('conv.bias', { type: DataType.FLOAT, values: floats(C_OUT, 11), count: C_OUT })).toBe(true);
    expect(await refitter.refitCudaEngine()).toBe(true);
    if (ctx.caps.execution) expect(maxRelativeError(await run(engine), expected)).toBeLessThanOrEqual(1e-4);
  });
}
