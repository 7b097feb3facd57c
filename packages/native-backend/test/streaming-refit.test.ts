import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { NetworkDefinition, TensorLocation, isDeviceValues, silentLogger } from '@trt-refit/core';
import { OnnxParserRefitter, importOnnxModel, openOnnxModel } from '@trt-refit/onnx';
import { DeviceWeightsStreamer } from '../src/index.js';
import { dataTypeNumber } from '../src/native-enums.js';
import { setup } from './helpers.js';

const model = fileURLToPath(new URL('../../../fixtures/convbn/convbn_a_ext.onnx', import.meta.url));

describe('streaming refit: OnnxParserRefitter({ streamTo }) over the native refitter (fake addon)', () => {
  it.each([
    ['scratch buffer of the parser refitter', false],
    ["the streamer's pinned staging (staging: streamer.staging)", true],
  ])('sets every external tensor as DEVICE weights through DeviceWeightsStreamer, read into the %s; the rest stay on the host', async (_, pinned) => {
    // The engine's refittable weights, named as TensorRT's parser names them (the onnx package's importer).
    const network = new NetworkDefinition();
    await importOnnxModel(await openOnnxModel(model), network);
    const weights = network.weightsEntries().map((e) => ({ name: e.name, type: dataTypeNumber(e.weights.type), count: e.weights.count }));
    expect(weights.length).toBeGreaterThan(8);
    const s = setup({}, { inputs: [{ name: 'input', dtype: 0, dims: [-1, 3, 16, 16] }], outputs: [{ name: 'logits', dtype: 0, dims: [-1, 10] }], weights });
    const builder = s.backend.createBuilder();
    const net = builder.createNetwork();
    await s.backend.createOnnxParser(net).parseFromFile('/models/convbn.onnx');
    const config = builder.createBuilderConfig();
    config.setFlags(['STRIP_PLAN']);
    const engine = await s.backend.createRuntime().deserializeCudaEngine(await builder.buildSerializedNetwork(net, config));
    const refitter = s.backend.createRefitter(engine);

    const streamer = new DeviceWeightsStreamer(s.backend.device);
    const parserRefitter = new OnnxParserRefitter(refitter, silentLogger, pinned ? { streamTo: streamer.streamTo, staging: streamer.staging } : { streamTo: streamer.streamTo });
    const ok = await parserRefitter.refitFromFile(model);
    const errors = Array.from({ length: parserRefitter.getNbErrors() }, (_, i) => parserRefitter.getError(i)?.desc);
    expect(ok, errors.join('; ')).toBe(true);
    expect(refitter.getMissingWeights()).toEqual([]);
    const onDevice = refitter.getAllWeights().filter((n) => refitter.getWeightsLocation(n) === TensorLocation.DEVICE);
    expect(onDevice.length).toBeGreaterThan(0);
    for (const n of onDevice) expect(isDeviceValues(refitter.getNamedWeights(n).values)).toBe(true);
    expect(streamer.bytes).toBeGreaterThan(4000);
    // Every streamed tensor was read straight into the pinned staging and copied from there, or none was.
    expect(streamer.stats.tensors).toBe(onDevice.length);
    expect(streamer.stats.fromStaging).toBe(pinned ? onDevice.length : 0);
    expect(streamer.stagingBytes > 0).toBe(pinned);
    expect(await refitter.refitCudaEngine()).toBe(true);
    streamer.dispose();
  });
});
