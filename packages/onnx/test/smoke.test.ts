import { it } from 'vitest';
import { openOnnxModel } from '@trt-refit/onnx';
it('smoke', async () => {
  for (const f of ['convbn/convbn_a.onnx', 'convbn/convbn_a_ext.onnx', 'convbn/convbn_a_dynamo.onnx', 'convbn/convbn_a_fp16_initializers.onnx', 'tinyxf/tinyxf_a.onnx']) {
    const m = await openOnnxModel(new URL(`../../../fixtures/${f}`, import.meta.url).pathname);
    const ts = m.tensors();
    const kinds: Record<string, number> = {};
    for (const t of ts) { kinds[`${t.kind}:${t.storage}:${t.dtypeName}`] = (kinds[`${t.kind}:${t.storage}:${t.dtypeName}`] ?? 0) + 1; await m.readTensor(t); }
    console.log(f, m.irVersion, JSON.stringify(m.opsets), ts.length, JSON.stringify(kinds), ts.slice(0, 3).map((t) => `${t.name}${JSON.stringify(t.dims)}`).join(' '));
  }
});
