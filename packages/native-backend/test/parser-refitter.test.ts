import { describe, expect, it } from 'vitest';
import { BuilderFlag, DataType, TrtRefitErrorCode } from '@trt-refit/core';
import { CONVBN, modelBytes } from './fake-binding.js';
import { buildEngine, setup } from './helpers.js';

async function stripped(version?: string) {
  const s = setup(version ? { version } : {});
  s.binding.files.set('/models/other.onnx', { weights: [{ name: 'emb.weight', type: 0, count: 4 }] });
  const engine = await buildEngine(s, [BuilderFlag.STRIP_PLAN]);
  const refitter = s.backend.createRefitter(engine);
  const parserRefitter = s.backend.createParserRefitter(refitter);
  return { ...s, engine, refitter, parserRefitter };
}

describe('NativeParserRefitter (fake addon)', () => {
  it('refitFromFile sets every stripped weight; progress is reported per weight afterwards; the caller refits', async () => {
    const { refitter, parserRefitter, binding } = await stripped();
    expect(refitter.getMissingWeights()).toHaveLength(4);
    const events: { name: string; done: number; total: number; bytes: number }[] = [];
    parserRefitter.onProgress = (e) => events.push(e);
    expect(await parserRefitter.refitFromFile('/models/convbn.onnx')).toBe(true);
    expect(refitter.getMissingWeights()).toEqual([]);
    expect(events.map((e) => e.name)).toEqual(['c1.weight', 'c1.bias', 'fc.weight', 'fc.bias']);
    expect(events[0]).toMatchObject({ done: 1, total: 4, bytes: 864 });
    expect(binding.state.calls).not.toContain('refit');
    expect(await refitter.refitCudaEngine()).toBe(true);
  });

  it('weights set by JS and then replaced by the parser refitter are no longer held', async () => {
    const { refitter, parserRefitter } = await stripped();
    const mine = { type: DataType.FLOAT, values: new Float32Array(10), count: 10 };
    expect(refitter.setNamedWeights('fc.bias', mine)).toBe(true);
    expect(refitter.heldNames()).toEqual(['fc.bias']);
    await parserRefitter.refitFromBytes(modelBytes(CONVBN), 'model.onnx');
    expect(refitter.heldNames()).toEqual([]);
    const now = refitter.getNamedWeights('fc.bias');
    expect(now).not.toBe(mine);
    expect(now.count).toBe(10);
  });

  it('a model that is not the engine\'s is refused with the names that differ', async () => {
    const { refitter, parserRefitter } = await stripped();
    expect(await parserRefitter.refitFromFile('/models/other.onnx')).toBe(false);
    const errors = Array.from({ length: parserRefitter.getNbErrors() }, (_, i) => parserRefitter.getError(i)!);
    expect(errors.map((e) => e.code)).toContain('REFIT_FAILED');
    expect(errors.map((e) => e.desc).join('\n')).toMatch(/c1\.weight/);
    expect(refitter.getMissingWeights().length).toBeGreaterThan(0);
    parserRefitter.clearErrors();
    expect(parserRefitter.getNbErrors()).toBe(0);
  });

  it('loadModelProto + loadInitializer + refitModelProto; initializer data stays referenced by the refitter', async () => {
    const { refitter, parserRefitter, binding } = await stripped();
    expect(await parserRefitter.loadModelProto(modelBytes(CONVBN))).toBe(true);
    const bias = new Float32Array(10).fill(0.5);
    expect(parserRefitter.loadInitializer('fc.bias', bias)).toBe(true);
    expect(parserRefitter.loadInitializer('nope', new Uint8Array(4))).toBe(false);
    expect(() => parserRefitter.loadInitializer('fc.bias', [1] as never)).toThrow(/data must be an ArrayBufferView/);
    expect(await parserRefitter.refitModelProto()).toBe(true);
    expect(binding.state.refitters[0]!.set.get('fc.bias')!.values).toBe(bias);
    expect(await parserRefitter.loadModelProto(modelBytes(CONVBN))).toBe(true);
    expect(await parserRefitter.loadModelProto(modelBytes(CONVBN))).toBe(false);
    expect(parserRefitter.getNbErrors()).toBeGreaterThan(0);
  });

  it('the 10.13 APIs are refused on older TensorRT before anything is sent', async () => {
    const { parserRefitter } = await stripped('10.12.0');
    expect(() => parserRefitter.loadModelProto(modelBytes(CONVBN))).toThrow(expect.objectContaining({ code: TrtRefitErrorCode.UNSUPPORTED_FEATURE }));
    expect(() => parserRefitter.loadInitializer('fc.bias', new Float32Array(10))).toThrow(/needs TensorRT 10\.13/);
  });

  it('runs with the refitter\'s queue: the refitter is busy meanwhile; arguments are checked', async () => {
    const { refitter, parserRefitter, binding } = await stripped();
    binding.state.gate.closed = true;
    const pending = parserRefitter.refitFromFile('/models/convbn.onnx');
    await new Promise((r) => setTimeout(r, 0));
    expect(() => refitter.getAllWeights()).toThrow(expect.objectContaining({ code: TrtRefitErrorCode.INVALID_STATE }));
    binding.state.gate.open();
    expect(await pending).toBe(true);
    await expect(parserRefitter.refitFromFile(3 as never)).rejects.toThrow(/path must be a string/); // async calls reject
    await expect(parserRefitter.refitFromBytes(new Uint8Array(1), 5 as never)).rejects.toThrow(/modelPath must be a string/);
  });

  it('is disposed with its refitter', async () => {
    const { refitter, parserRefitter } = await stripped();
    refitter.dispose();
    expect(parserRefitter.disposed).toBe(true);
    expect(() => parserRefitter.getNbErrors()).toThrow(expect.objectContaining({ code: TrtRefitErrorCode.DISPOSED }));
  });
});
