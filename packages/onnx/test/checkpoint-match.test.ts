import { describe, expect, it } from 'vitest';
import { matchCheckpoint, openOnnxModel, openSafetensors, parseSafetensors } from '@trt-refit/onnx';
import { fixture, renamedCheckpoint } from './helpers.js';

describe('matchCheckpoint', () => {
  it('derives the name map for a renamed checkpoint: content for unchanged tensors, unique shapes (also transposed) for changed ones', async () => {
    const model = await openOnnxModel(fixture('convbn/convbn_a.onnx'));
    const m = await matchCheckpoint(model, parseSafetensors(await renamedCheckpoint()));
    const by = new Map(m.matches.map((x) => [x.initializer, x]));
    expect(m.unmatchedModel).toEqual([]);
    expect(m.unmatchedCheckpoint.filter((n) => !n.includes('num_batches_tracked'))).toEqual([]);
    for (const [init, x] of by) expect(x.checkpoint).toBe(`model.${init}`);
    expect(by.get('c2.weight')?.how).toBe('content');
    expect(by.get('c1.weight')?.how).toBe('shape');
    expect(by.get('fc.weight')).toMatchObject({ how: 'shape-transposed', transpose: true });
  });
  it('an explicit map wins and names that match are taken as they are', async () => {
    const model = await openOnnxModel(fixture('convbn/convbn_a.onnx'));
    const m = await matchCheckpoint(model, parseSafetensors(await renamedCheckpoint()), { 'model.fc.weight': 'fc.weight' });
    expect(m.matches.find((x) => x.initializer === 'fc.weight')).toMatchObject({ how: 'map', transpose: true });
    const same = await matchCheckpoint(model, await openSafetensors(fixture('convbn/convbn_b.safetensors')));
    expect(same.matches.every((x) => x.how === 'name')).toBe(true);
  });
  it('ambiguous shapes stay unmatched and are reported', async () => {
    const model = await openOnnxModel(fixture('convbn/convbn_a.onnx'));
    // two [8] tensors with new values and new names cannot be told apart
    const header = { x: { dtype: 'F32', shape: [8], data_offsets: [0, 32] }, y: { dtype: 'F32', shape: [8], data_offsets: [32, 64] } };
    const h = Buffer.from(JSON.stringify(header));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(h.length));
    const m = await matchCheckpoint(model, parseSafetensors(Buffer.concat([len, h, Buffer.alloc(64, 1)])));
    expect(m.matches).toEqual([]);
    expect(m.unmatchedCheckpoint.sort()).toEqual(['x', 'y']);
    expect(m.unmatchedModel).toContain('b1.running_mean');
  });
});
