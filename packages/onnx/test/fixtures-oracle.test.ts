import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import onnxProto from 'onnx-proto';
import type { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { openOnnxModel } from '@trt-refit/onnx';
import { fixture, tmp } from './helpers.js';

const { ModelProto } = (onnxProto as unknown as { onnx: typeof onnx }).onnx;

/**
 * What onnxruntime reads for each named tensor of a model: the model with an Identity output added per tensor,
 * run beside copies of its sidecars.
 */
async function onnxruntimeValues(path: string, names: string[], sidecars: string[] = []): Promise<Map<string, Uint8Array>> {
  const proto = ModelProto.decode(readFileSync(path));
  const graph = proto.graph as onnx.GraphProto;
  // Only the Constant nodes and the probes: the rest of the graph need not run (the fp16 fixture cannot).
  graph.node = [...(graph.node ?? []).filter((n) => n.opType === 'Constant'), ...names.map((n, i) => ({ opType: 'Identity', input: [n], output: [`__ort_${i}`], name: `__ort_${i}` }) as onnx.NodeProto)];
  graph.input = [];
  graph.output = names.map((_, i) => ({ name: `__ort_${i}` }) as onnx.ValueInfoProto);
  const dir = tmp();
  for (const s of sidecars) copyFileSync(fixture(s), join(dir, basename(s)));
  writeFileSync(join(dir, 'm.onnx'), ModelProto.encode(proto).finish());
  const session = await ort.InferenceSession.create(join(dir, 'm.onnx'));
  const out = await session.run({});
  return new Map(
    names.map((n, i) => {
      const d = out[`__ort_${i}`]!.data as ArrayBufferView;
      return [n, new Uint8Array(d.buffer, d.byteOffset, d.byteLength)];
    }),
  );
}

describe('the fixtures read exactly as onnxruntime reads them', () => {
  it.each([
    ['convbn/convbn_a.onnx', []],
    ['convbn/convbn_a_ext.onnx', ['convbn/convbn_a_ext.weights']],
    ['convbn/convbn_a_fp16_initializers.onnx', []],
    ['convbn/convbn_a_dynamo.onnx', ['convbn/convbn_a_dynamo.onnx.data']],
    ['tinyxf/tinyxf_a.onnx', []],
  ] as const)('%s: every initializer and Constant value', async (file, sidecars) => {
    const model = await openOnnxModel(fixture(file));
    const tensors = model.tensors().filter((t) => t.scope === 'graph');
    expect(tensors.length).toBeGreaterThan(4);
    const theirs = await onnxruntimeValues(fixture(file), tensors.map((t) => t.name), [...sidecars]);
    for (const t of tensors) {
      const ours = await model.readTensor(t);
      expect(Buffer.from(ours).equals(Buffer.from(theirs.get(t.name)!)), `${t.name} (${t.kind}, ${t.storage})`).toBe(true);
    }
  });
});
