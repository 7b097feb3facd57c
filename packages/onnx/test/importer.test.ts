import { describe, expect, it } from 'vitest';
import { DataType, NetworkDefinition, WeightsRole, hostBytes } from '@trt-refit/core';
import { importOnnxModel, openOnnxModel, parseOnnxModel, writeOnnxModel, UniqueNames, weightSources, floatToHalf, halfToFloat, floatToBf16, bf16ToFloat, type GraphSpec, type TensorSpec } from '@trt-refit/onnx';
import { fixture, f32, corpusModels } from './helpers.js';

async function importFixture(path: string, tensorrtVersion?: string) {
  const network = new NetworkDefinition(tensorrtVersion);
  const result = await importOnnxModel(await openOnnxModel(fixture(path)), network);
  return { network, ...result };
}

describe('importer (TensorRT ONNX parser naming)', () => {
  it('convbn_a: Conv weights on the Conv layers, BN folded into Scale layers under generated names, Gemm weights as constants', async () => {
    const { network, errors } = await importFixture('convbn/convbn_a.onnx');
    expect(errors).toEqual([]);
    expect(network.inputs).toEqual([{ name: 'input', dtype: DataType.FLOAT, dims: ['batch', 3, 16, 16] }]);
    expect(network.outputs.map((o) => o.name)).toEqual(['logits']);
    const byName = new Map(network.weightsEntries().map((e) => [e.name, e]));
    expect(byName.get('c1.weight')).toMatchObject({ role: WeightsRole.KERNEL, dims: [8, 3, 3, 3], named: true });
    expect(byName.get('c1.bias')).toMatchObject({ role: WeightsRole.BIAS });
    expect(byName.get('c2.weight')).toMatchObject({ role: WeightsRole.KERNEL });
    expect(byName.get('fc.weight')).toMatchObject({ role: WeightsRole.CONSTANT, dims: [10, 16] });
    // P-TEMP-BASE: the newest known version (10.16) names folds tmp_refittable_weight, _0, _1, _2
    expect(byName.get('tmp_refittable_weight')).toMatchObject({ role: WeightsRole.SCALE, dims: [8] });
    expect(byName.get('tmp_refittable_weight_0')).toMatchObject({ role: WeightsRole.SHIFT, dims: [8] });
    expect(byName.get('tmp_refittable_weight_1')).toMatchObject({ role: WeightsRole.SCALE, dims: [16] });
    expect(byName.get('tmp_refittable_weight_2')).toMatchObject({ role: WeightsRole.SHIFT, dims: [16] });
    for (const bn of ['b1.weight', 'b1.running_mean', 'b2.running_var']) expect(byName.has(bn)).toBe(false);
    const scales = network.layers.filter((l) => l.type === 'Scale');
    expect(scales).toHaveLength(2);
    expect(scales[0]!.inputs).toEqual(['/c1/Conv_output_0']);
    const conv = network.layers.find((l) => l.type === 'Conv')!;
    expect(conv.inputs).toEqual(['input']);
    expect(conv.attributes.kernel_shape).toEqual([3, 3]);
    expect(network.layers.filter((l) => l.type === 'Constant').length).toBe(5); // 3 GELU constants + fc.weight + fc.bias
  });

  it('Conv weights are views into the model (no copy)', async () => {
    const model = await openOnnxModel(fixture('convbn/convbn_a.onnx'));
    const network = new NetworkDefinition();
    await importOnnxModel(model, network);
    const w = network.weightsEntries().find((e) => e.name === 'c1.weight')!.weights;
    expect(Buffer.from(hostBytes(w)).equals(Buffer.from(await model.readTensor(model.tensors()[0]!)))).toBe(true);
    expect((w.values as Uint8Array).buffer).toBe((await model.readTensor(model.tensors()[0]!)).buffer);
  });

  it('folds BatchNormalization exactly: scale = gamma / sqrt(var + eps), shift = beta - mean * scale', async () => {
    const c = 3;
    const gamma = [1, 2, 0.5];
    const beta = [0.1, -0.2, 0.3];
    const mean = [0.5, 1, -1];
    const variance = [4, 0.25, 1];
    const { model } = writeOnnxModel({
      inputs: [{ name: 'x', elemType: 1, dims: ['N', c, 2, 2] }],
      outputs: [{ name: 'y', elemType: 1, dims: ['N', c, 2, 2] }],
      nodes: [{ opType: 'BatchNormalization', inputs: ['x', 'g', 'b', 'm', 'v'], outputs: ['y'], attributes: { epsilon: { float: 0.01 } } }],
      initializers: [
        { name: 'g', dataType: 1, dims: [c], raw: f32(...gamma) },
        { name: 'b', dataType: 1, dims: [c], raw: f32(...beta) },
        { name: 'm', dataType: 1, dims: [c], raw: f32(...mean) },
        { name: 'v', dataType: 1, dims: [c], raw: f32(...variance) },
      ],
    });
    const network = new NetworkDefinition();
    expect((await importOnnxModel(parseOnnxModel(model), network)).errors).toEqual([]);
    const e = new Map(network.weightsEntries().map((x) => [x.name, x.weights]));
    const scale = Array.from(e.get('tmp_refittable_weight')!.values as Float32Array);
    const shift = Array.from(e.get('tmp_refittable_weight_0')!.values as Float32Array);
    for (let k = 0; k < c; k++) {
      const s = gamma[k]! / Math.sqrt(variance[k]! + 0.01);
      expect(scale[k]).toBeCloseTo(s, 6);
      expect(shift[k]).toBeCloseTo(beta[k]! - mean[k]! * s, 6);
    }
  });

  it('converts DOUBLE to FLOAT (clamped, with a warning) and UINT8 to INT32', async () => {
    const d = new Float64Array([1.5, 1e300, -1e300]);
    const { model } = writeOnnxModel({
      nodes: [{ opType: 'Add', inputs: ['d', 'u'], outputs: ['y'] }],
      initializers: [
        { name: 'd', dataType: 11, dims: [3], raw: new Uint8Array(d.buffer) },
        { name: 'u', dataType: 2, dims: [2], raw: new Uint8Array([7, 255]) },
      ],
    });
    const warnings: string[] = [];
    const network = new NetworkDefinition();
    await importOnnxModel(parseOnnxModel(model), network, { onWarning: (w) => warnings.push(w) });
    const e = new Map(network.weightsEntries().map((x) => [x.name, x.weights]));
    expect(e.get('d')!.type).toBe(DataType.FLOAT);
    expect(Array.from(e.get('d')!.values as Float32Array)).toEqual([1.5, 3.4028234663852886e38, -3.4028234663852886e38]);
    expect(warnings.join()).toMatch(/2 DOUBLE value\(s\) clamped/);
    expect(e.get('u')).toMatchObject({ type: DataType.INT32, count: 2 });
    expect(Array.from(e.get('u')!.values as Int32Array)).toEqual([7, 255]);
  });

  it('F-OPERATOR-MATRIX: refuses every op TensorRT\'s matrix marks unsupported (kUNSUPPORTED_NODE) and unknown ops as missing plugins (kINVALID_NODE); still names the weights they use; supported ops import whether or not the mock executes them', async () => {
    const { model } = writeOnnxModel({
      nodes: [
        { opType: 'BitShift', name: 'shift0', inputs: ['x', 'W'], outputs: ['a'] },
        { opType: 'Relu', inputs: ['a'], outputs: ['b'] },
        { opType: 'Unique', name: 'uniq', inputs: ['b'], outputs: ['c'] },
        { opType: 'NoSuchOp', name: 'nope', inputs: ['c'], outputs: ['d'] },
        { opType: 'NonMaxSuppression', name: 'nms', inputs: ['d', 'd'], outputs: ['e'] },
      ],
      initializers: [{ name: 'W', dataType: 1, dims: [2], raw: f32(1, 2) }],
    });
    const network = new NetworkDefinition();
    const { errors } = await importOnnxModel(parseOnnxModel(model), network);
    expect(errors.map((e) => [e.code, e.nodeName, e.nodeOperator])).toEqual([
      ['UNSUPPORTED_NODE', 'shift0', 'BitShift'],
      ['UNSUPPORTED_NODE', 'uniq', 'Unique'],
      ['INVALID_NODE', 'nope', 'NoSuchOp'],
    ]);
    expect(errors[2]!.desc).toMatch(/Plugin not found/);
    expect(network.weightsEntries().map((e) => e.name)).toEqual(['W']);
    expect(network.layers.map((l) => l.type)).toContain('NonMaxSuppression');
  });

  it('tinyxf: every node imports; Constant outputs name their weights', async () => {
    const { network, errors } = await importFixture('tinyxf/tinyxf_a.onnx');
    expect(errors).toEqual([]);
    expect(network.inputs).toEqual([{ name: 'ids', dtype: DataType.INT64, dims: [2, 7] }]);
    const names = network.weightsEntries().map((e) => e.name);
    expect(names).toContain('emb.weight');
    expect(names).toContain('attn.in_proj_weight');
    expect(names.length).toBe(12 + 60);
    expect(network.layers.filter((l) => l.type !== 'Constant').length).toBe(107); // one layer per non-Constant node
  });

  it('imports the dynamo export of convbn (Gelu op, folded BN)', async () => {
    const { network, errors } = await importFixture('convbn/convbn_a_dynamo.onnx');
    expect(errors).toEqual([]);
    expect(network.layers.some((l) => l.type === 'Gelu')).toBe(true);
  });

  it('F-GENERATED-NAMES: generateUniqueName gives the base, then base_<counter> with one counter from 0 that grows with every try', () => {
    const names = new UniqueNames();
    expect(['a', 'a', 'a', 'b', 'b', 'a'].map((b) => names.next(b))).toEqual(['a', 'a_0', 'a_1', 'b', 'b_2', 'a_3']);
  });

  it('P-CONSTANT-OF-SHAPE: before 10.14 a ConstantOfShape value is an attribute; from 10.14 a refittable weight with a generated name', async () => {
    const { model } = writeOnnxModel({ nodes: [{ opType: 'ConstantOfShape', name: 'cos', inputs: ['s'], outputs: ['y'], attributes: { value: { tensor: { name: 'v', dataType: 1, dims: [1], raw: f32(0.5) } } } }] });
    const old = new NetworkDefinition('10.13');
    await importOnnxModel(parseOnnxModel(model), old);
    expect(old.layers[0]!.attributes.value).toEqual([0.5]);
    expect(old.weightsEntries()).toEqual([]);
    const network = new NetworkDefinition('10.14');
    await importOnnxModel(parseOnnxModel(model), network);
    expect(network.weightsEntries().map((e) => [e.name, e.role, Array.from(new Float32Array(hostBytes(e.weights).slice().buffer))])).toEqual([['tmp_refittable_weight', WeightsRole.CONSTANT, [0.5]]]);
    expect(network.layers.map((l) => [l.name, l.type, l.inputs])).toEqual([['tmp_refittable_weight', 'Constant', []], ['cos', 'ConstantOfShape', ['s', 'tmp_refittable_weight']]]);
    // without a value: FLOAT [1] 0
    const { model: bare } = writeOnnxModel({ nodes: [{ opType: 'ConstantOfShape', name: '', inputs: ['s'], outputs: ['y'] }] });
    const n2 = new NetworkDefinition('10.16');
    await importOnnxModel(parseOnnxModel(bare), n2);
    expect(n2.weightsEntries().map((e) => [e.name, e.weights.type, Array.from(e.weights.values as Float32Array)])).toEqual([['tmp_refittable_weight', DataType.FLOAT, [0]]]);
    expect(n2.layers[1]!.name).toBe('node_of_y'); // F-LAYER-NAMES
  });

  const bnModel = (dataTypes: number[], encode: (v: number[], dt: number) => Uint8Array, elemType = 1) => {
    const values = [[1, 2.5, 0.5], [0.1, -0.2, 0.3], [0.5, 1, -1], [4, 0.25, 1]];
    return writeOnnxModel({
      inputs: [{ name: 'x', elemType, dims: [1, 3, 2, 2] }],
      outputs: [{ name: 'y', elemType: 1, dims: [1, 3, 2, 2] }],
      nodes: [{ opType: 'BatchNormalization', inputs: ['x', 'g', 'b', 'm', 'v'], outputs: ['y'], attributes: { epsilon: { float: 1e-3 } } }],
      initializers: ['g', 'b', 'm', 'v'].map((n, k) => ({ name: n, dataType: dataTypes[k]!, dims: [3], raw: encode(values[k]!, dataTypes[k]!) })),
    }).model;
  };
  const encode = (v: number[], dt: number) =>
    dt === 1 ? f32(...v) : dt === 11 ? new Uint8Array(new Float64Array(v).buffer) : new Uint8Array(Uint16Array.from(v, dt === 10 ? floatToHalf : floatToBf16).buffer);

  it('F-BN-FOLD-TYPE: folds BatchNormalization in float32 arithmetic, keeping FLOAT16 or BFLOAT16 when the input and all four parameters have it', async () => {
    const cases: [number[], string, (bits: number) => number][] = [
      [[1, 1, 1, 1], DataType.FLOAT, (x) => x],
      [[10, 10, 10, 10], DataType.HALF, halfToFloat],
      [[16, 16, 16, 16], DataType.BF16, bf16ToFloat],
      [[10, 1, 16, 11], DataType.FLOAT, (x) => x], // mixed: promoted to FLOAT
    ];
    for (const [dts, type, decode] of cases) {
      const network = new NetworkDefinition();
      // the input's type is compared too: all five of one type fold in it
      const elem = dts.every((d) => d === 10) ? 10 : dts.every((d) => d === 16) ? 16 : 1;
      expect((await importOnnxModel(parseOnnxModel(bnModel(dts, encode, elem)), network)).errors).toEqual([]);
      const e = new Map(network.weightsEntries().map((x) => [x.name, x.weights]));
      const scale = e.get('tmp_refittable_weight')!;
      const shift = e.get('tmp_refittable_weight_0')!;
      expect([scale.type, shift.type]).toEqual([type, type]);
      const read = (w: typeof scale) => Array.from(w.values as Float32Array | Uint16Array, (x) => decode(x));
      // the reference: each parameter as the model stores it, then float32 steps as in TensorRT's parser
      const p = ['g', 'b', 'm', 'v'].map((_, k) => {
        const raw = [[1, 2.5, 0.5], [0.1, -0.2, 0.3], [0.5, 1, -1], [4, 0.25, 1]][k]!;
        return raw.map((v) => (dts[k] === 10 ? halfToFloat(floatToHalf(v)) : dts[k] === 16 ? bf16ToFloat(floatToBf16(v)) : Math.fround(v)));
      });
      const narrow = type === DataType.HALF ? (v: number) => halfToFloat(floatToHalf(v)) : type === DataType.BF16 ? (v: number) => bf16ToFloat(floatToBf16(v)) : Math.fround;
      const eps = narrow(1e-3);
      const s = p[0]!.map((g, k) => narrow(Math.fround(g / Math.fround(Math.sqrt(Math.fround(p[3]![k]! + eps))))));
      expect(read(scale)).toEqual(s);
      expect(read(shift)).toEqual(s.map((sk, k) => narrow(Math.fround(p[1]![k]! - Math.fround(p[2]![k]! * sk)))));
    }
  });

  it('BatchNormalization parameters of other types are an error naming the node; the names are still taken', async () => {
    const { model } = writeOnnxModel({
      nodes: [
        { opType: 'BatchNormalization', name: 'bn_int', inputs: ['x', 'g', 'b', 'm', 'v'], outputs: ['y'] },
        { opType: 'BatchNormalization', name: 'bn_ok', inputs: ['y', 'g2', 'b2', 'm2', 'v2'], outputs: ['z'] },
      ],
      initializers: [
        ...['g', 'b', 'm', 'v'].map((n) => ({ name: n, dataType: 6, dims: [1], raw: new Uint8Array(4) })),
        ...['g2', 'b2', 'm2', 'v2'].map((n) => ({ name: n, dataType: 1, dims: [1], raw: f32(1) })),
      ],
    });
    const network = new NetworkDefinition();
    const { errors } = await importOnnxModel(parseOnnxModel(model), network);
    expect(errors).toMatchObject([{ code: 'UNSUPPORTED_NODE_DATATYPE', nodeName: 'bn_int', desc: expect.stringMatching(/parameter g has ONNX element type 6/) }]);
    expect(network.weightsEntries().map((e) => e.name)).toEqual(['tmp_refittable_weight_1', 'tmp_refittable_weight_2']);
  });

  it('network inputs and outputs get TensorRT types (UINT8 stays UINT8, DOUBLE runs as FLOAT); other types are errors', async () => {
    const { model } = writeOnnxModel({
      inputs: [
        { name: 'u8', elemType: 2, dims: [2] },
        { name: 'd', elemType: 11, dims: ['n'] },
        { name: 'h', elemType: 10, dims: [1] },
        { name: 's', elemType: 8, dims: [1] },
      ],
      outputs: [{ name: 'o', elemType: 13, dims: [1] }],
      nodes: [],
    });
    const network = new NetworkDefinition();
    const { errors } = await importOnnxModel(parseOnnxModel(model), network);
    expect(network.inputs).toEqual([
      { name: 'u8', dtype: DataType.UINT8, dims: [2] },
      { name: 'd', dtype: DataType.FLOAT, dims: ['n'] },
      { name: 'h', dtype: DataType.HALF, dims: [1] },
    ]);
    expect(errors.map((e) => [e.code, e.desc])).toEqual([
      ['UNSUPPORTED_GRAPH', expect.stringMatching(/input s has element type STRING/)],
      ['UNSUPPORTED_GRAPH', expect.stringMatching(/output o has element type UINT64/)],
    ]);
  });

  it('visits nodes listed out of order in topological order, as TensorRT does', async () => {
    const { model } = writeOnnxModel({
      nodes: [
        { opType: 'Relu', name: 'second', inputs: ['a'], outputs: ['b'] },
        { opType: 'Add', name: 'first', inputs: ['x', 'w'], outputs: ['a'] },
      ],
      initializers: [{ name: 'w', dataType: 1, dims: [1], raw: f32(1) }],
    });
    const network = new NetworkDefinition();
    expect((await importOnnxModel(parseOnnxModel(model), network)).errors).toEqual([]);
    expect(network.layers.map((l) => l.name)).toEqual(['w', 'first', 'second']);
  });

  it('keeps the generated-name sequence of TensorRT across an If whose branches fold BatchNormalization', async () => {
    const init = (prefix: string): TensorSpec[] => ['g', 'b', 'm', 'v'].map((n) => ({ name: `${prefix}.${n}`, dataType: 1, dims: [1], raw: f32(n === 'v' ? 1 : 0.5) }));
    const branch = (prefix: string): GraphSpec => ({ nodes: [{ opType: 'BatchNormalization', inputs: ['x', ...['g', 'b', 'm', 'v'].map((n) => `${prefix}.${n}`)], outputs: [`${prefix}.y`] }], initializers: init(prefix), outputs: [{ name: `${prefix}.y`, elemType: 1, dims: [1] }] });
    const { model } = writeOnnxModel({
      nodes: [
        { opType: 'BatchNormalization', name: 'bn1', inputs: ['x', 'a.g', 'a.b', 'a.m', 'a.v'], outputs: ['y1'] },
        { opType: 'If', name: 'if0', inputs: ['cond'], outputs: ['y2'], attributes: { then_branch: { graph: branch('t') }, else_branch: { graph: branch('e') } } },
        { opType: 'BatchNormalization', name: 'bn3', inputs: ['y1', 'c.g', 'c.b', 'c.m', 'c.v'], outputs: ['y3'] },
      ],
      initializers: [...init('a'), ...init('c')],
    });
    const m = parseOnnxModel(model);
    const network = new NetworkDefinition();
    const { errors } = await importOnnxModel(m, network);
    expect(errors).toEqual([]); // a runtime condition: both branches are imported as scoped layers
    const bn3 = network.layers.find((l) => l.name === 'bn3')!;
    const names = network.weightsEntries().filter((e) => e.layer === 'bn3').map((e) => e.name);
    expect(bn3.type).toBe('Scale');
    // bn1: base, _0; then branch: _1, _2; else branch: _3, _4; bn3: _5, _6
    expect(names).toEqual(['tmp_refittable_weight_5', 'tmp_refittable_weight_6']);
    const sources = weightSources(m).filter((s) => s.kind !== 'tensor');
    expect(sources.map((s) => [s.name, 'node' in s ? s.node : ''])).toEqual([
      ['tmp_refittable_weight', 'bn1'], ['tmp_refittable_weight_0', 'bn1'],
      ['tmp_refittable_weight_1', 'BatchNormalization_0'], ['tmp_refittable_weight_2', 'BatchNormalization_0'],
      ['tmp_refittable_weight_3', 'BatchNormalization_0'], ['tmp_refittable_weight_4', 'BatchNormalization_0'],
      ['tmp_refittable_weight_5', 'bn3'], ['tmp_refittable_weight_6', 'bn3'],
    ]);
  });

  it('F-NAME-COLLISION: a generated name equal to a model tensor name is refused (TensorRT does not avoid it: two weights of one name)', async () => {
    const { model } = writeOnnxModel({
      nodes: [
        { opType: 'Add', inputs: ['x', 'tmp_batch_norm_weight'], outputs: ['a'] },
        { opType: 'BatchNormalization', name: 'bn', inputs: ['a', 'g', 'b', 'm', 'v'], outputs: ['y'] },
      ],
      initializers: [{ name: 'tmp_batch_norm_weight', dataType: 1, dims: [1], raw: f32(3) }, ...['g', 'b', 'm', 'v'].map((n) => ({ name: n, dataType: 1, dims: [1], raw: f32(1) }))],
    });
    const m = parseOnnxModel(model);
    const old = new NetworkDefinition('10.13');
    expect((await importOnnxModel(m, old)).errors).toMatchObject([{ code: 'INVALID_GRAPH', nodeName: 'bn', desc: expect.stringMatching(/generated weight name tmp_batch_norm_weight is also a tensor of the model/) }]);
    // from 10.14 the base differs, so the same model imports
    const network = new NetworkDefinition('10.16');
    expect((await importOnnxModel(m, network)).errors).toEqual([]);
    expect(network.weightsEntries().map((e) => e.name)).toEqual(['tmp_batch_norm_weight', 'tmp_refittable_weight', 'tmp_refittable_weight_0']);
  });

  it('A-LAYER-SUFFIX: a node name used twice gets <name>_<n> from a counter of layer names (TensorRT shares its counter with tensor names, which the mock does not emulate)', async () => {
    const { model } = writeOnnxModel({ nodes: [{ opType: 'Relu', name: 'act', inputs: ['x'], outputs: ['a'] }, { opType: 'Relu', name: 'act', inputs: ['a'], outputs: ['b'] }, { opType: 'Relu', name: 'act', inputs: ['b'], outputs: ['c'] }] });
    const network = new NetworkDefinition();
    await importOnnxModel(parseOnnxModel(model), network);
    expect(network.layers.map((l) => l.name)).toEqual(['act', 'act_0', 'act_1']);
  });

  it('F-QDQ: Q/DQ as TensorRT checks them: a constant non-zero zero point, a non-positive scale and UINT8 are refused; INT8 weights with a zero zero point import', async () => {
    const q = (zp: number, scale: number, zpType = 3) =>
      writeOnnxModel({
        nodes: [{ opType: 'DequantizeLinear', name: 'dq', inputs: ['w', 's', 'z'], outputs: ['y'] }],
        initializers: [
          { name: 'w', dataType: 3, dims: [2], raw: Uint8Array.of(1, 254) },
          { name: 's', dataType: 1, dims: [], raw: f32(scale) },
          { name: 'z', dataType: zpType, dims: [], raw: Uint8Array.of(zp) },
        ],
      }).model;
    const errorsOf = async (m: Uint8Array) => (await importOnnxModel(parseOnnxModel(m), new NetworkDefinition())).errors.map((e) => e.desc);
    expect(await errorsOf(q(0, 0.5))).toEqual([]);
    expect((await errorsOf(q(3, 0.5))).join()).toMatch(/Non-zero zero point is not supported/);
    expect((await errorsOf(q(0, -1))).join()).toMatch(/Scale coefficients must all be positive/);
    expect((await errorsOf(q(0, 0.5, 2))).join()).toMatch(/UINT8 quantization needs the parser flag/);
  });

  it('a custom-domain node is an error, and the initializers it uses stay named', async () => {
    const { model } = writeOnnxModel({ nodes: [{ opType: 'MyOp', domain: 'com.example', name: 'custom', inputs: ['x', 'cw'], outputs: ['y'] }], initializers: [{ name: 'cw', dataType: 1, dims: [2], raw: f32(1, 2) }] });
    const network = new NetworkDefinition();
    const { errors } = await importOnnxModel(parseOnnxModel(model), network);
    expect(errors).toMatchObject([{ code: 'INVALID_NODE', nodeName: 'custom', desc: expect.stringMatching(/com\.example::MyOp.*Plugin not found/) }]);
    expect(network.weightsEntries().map((e) => e.name)).toEqual(['cw']);
  });

  it('malformed graphs become parser errors, never exceptions (an input without a name, a cycle)', async () => {
    const { model } = writeOnnxModel({ inputs: [{ name: '', elemType: 1, dims: [1] }], nodes: [{ opType: 'Relu', inputs: ['b'], outputs: ['a'] }, { opType: 'Relu', inputs: ['a'], outputs: ['b'] }] });
    const { errors } = await importOnnxModel(parseOnnxModel(model), new NetworkDefinition());
    expect(errors.map((e) => e.code)).toEqual(['INVALID_GRAPH', 'INVALID_GRAPH']);
    expect(errors[1]!.desc).toMatch(/cycle/);
  });
});

describe('importer on the third-party corpus (../shared/corpus)', () => {
  const files = corpusModels();
  it.skipIf(files.length === 0)(`every model imports without throwing, its problems reported as parser errors, and its weight sources name what the network names (${files.length} models)`, async () => {
    let imported = 0;
    for (const f of files) {
      let model;
      try {
        model = await openOnnxModel(f);
      } catch {
        continue; // the reader's corpus test checks these are typed errors
      }
      const network = new NetworkDefinition();
      const { errors } = await importOnnxModel(model, network);
      for (const e of errors) expect(typeof e.code === 'string' && typeof e.desc === 'string', f).toBe(true);
      const sources = new Set(weightSources(model).map((s) => s.name));
      for (const e of network.weightsEntries()) expect(sources.has(e.name), `${f}: ${e.name}`).toBe(true);
      imported++;
    }
    expect(imported).toBeGreaterThan(0);
  }, 120_000);
  it.skipIf(files.length > 0)('skipped: ../shared/corpus is not present on this machine', () => {});
});
