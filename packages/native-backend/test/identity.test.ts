import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BuilderFlag, DataType, MemoryLogger, parseIdentityManifest, weightsSha256, hostBytes } from '@trt-refit/core';
import { openOnnxModel } from '@trt-refit/onnx';
import { planIdentityManifest } from '../src/index.js';
import { onnxAsFakeModel } from './fake-binding.js';
import { setup } from './helpers.js';

const fixture = (p: string) => fileURLToPath(new URL(`../../../fixtures/convbn/${p}`, import.meta.url));

describe('F-IDENTICAL on the native backend (fake addon): REFIT_IDENTICAL refits are checked in TS, as TensorRT does not', () => {
  it('a plan built here records the build-time weights; other weights are refused before TensorRT sees them, the same ones pass', async () => {
    const s = setup();
    const [pathA, pathB] = [fixture('convbn_a.onnx'), fixture('convbn_b.onnx')];
    s.binding.files.set(pathA, (await onnxAsFakeModel(readFileSync(pathA)))!);
    s.binding.files.set(pathB, (await onnxAsFakeModel(readFileSync(pathB)))!);
    const builder = s.backend.createBuilder();
    const network = builder.createNetwork();
    expect(await s.backend.createOnnxParser(network).parseFromFile(pathA)).toBe(true);
    const config = builder.createBuilderConfig();
    config.setFlags([BuilderFlag.REFIT_IDENTICAL]);
    const plan = await builder.buildSerializedNetwork(network, config);
    const manifest = planIdentityManifest(plan)!;
    const modelA = await openOnnxModel(pathA);
    const c1 = modelA.tensors().find((t) => t.name === 'c1.weight')!;
    expect(manifest.weights['c1.weight']).toBe(weightsSha256(await modelA.readTensor(c1)));
    expect(Object.keys(manifest.weights)).toContain('tmp_refittable_weight'); // folded BatchNormalization, as built

    const engine = await s.backend.createRuntime().deserializeCudaEngine(plan);
    expect(engine.getIdentityManifest()).toEqual(manifest);
    const logger = new MemoryLogger();
    const refitter = s.backend.createRefitter(engine, logger);
    const wrong = s.backend.createParserRefitter(refitter);
    const calls = s.binding.state.calls.length;
    expect(await wrong.refitFromFile(pathB)).toBe(false);
    const text = Array.from({ length: wrong.getNbErrors() }, (_, i) => wrong.getError(i)!.desc).join('\n');
    expect(text).toMatch(/REFIT_IDENTICAL.*c1\.weight.*TensorRT would not check this and would accept the refit silently/s);
    expect(s.binding.state.calls.slice(calls)).not.toContain('refitFromFile'); // TensorRT was not called
    expect(await s.backend.createParserRefitter(refitter).refitFromFile(pathA)).toBe(true);

    // host weights set by hand: checked at refitCudaEngine
    const p = refitter.getWeightsPrototype('c1.weight');
    const other = { type: DataType.FLOAT, values: new Float32Array(p.count).fill(0.5), count: p.count };
    expect(refitter.setNamedWeights('c1.weight', other)).toBe(true);
    expect(await refitter.refitCudaEngine()).toBe(false);
    expect(logger.errors().join('\n')).toMatch(/differ from the build-time ones: c1\.weight/);
    const same = { type: DataType.FLOAT, values: new Float32Array(hostBytes({ type: DataType.FLOAT, values: await modelA.readTensor(c1), count: p.count }).slice().buffer), count: p.count };
    expect(refitter.setNamedWeights('c1.weight', same)).toBe(true);
    expect(await refitter.refitCudaEngine()).toBe(true);

    // a plan read back from a file has no manifest until it is given (the CLI keeps it beside the plan)
    const fromFile = await s.backend.createRuntime().deserializeCudaEngine(Uint8Array.from(plan));
    expect(fromFile.getIdentityManifest()).toBeNull();
    fromFile.setIdentityManifest(parseIdentityManifest(JSON.stringify(manifest)));
    expect(await s.backend.createParserRefitter(s.backend.createRefitter(fromFile)).refitFromFile(pathB)).toBe(false);
  });

  it('REFIT (not identical) records nothing: any weights may be refitted', async () => {
    const s = setup();
    const pathA = fixture('convbn_a.onnx');
    s.binding.files.set(pathA, (await onnxAsFakeModel(readFileSync(pathA)))!);
    const builder = s.backend.createBuilder();
    const network = builder.createNetwork();
    expect(await s.backend.createOnnxParser(network).parseFromFile(pathA)).toBe(true);
    const config = builder.createBuilderConfig();
    config.setFlags([BuilderFlag.REFIT]);
    expect(planIdentityManifest(await builder.buildSerializedNetwork(network, config))).toBeUndefined();
  });
});
