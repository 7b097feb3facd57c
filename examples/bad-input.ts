/**
 * ACCEPTANCE F — what bad input looks like to a caller: every refusal is a typed error with a stable `code`, or
 * TensorRT's `false` with the reason logged or in `getError(i)`. Nothing crashes, and nothing is half-applied.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BuilderFlag, DataType, MemoryLogger, isTrtRefitError } from '@trt-refit/core';
import { writeOnnxModel } from '@trt-refit/onnx';
import { createMockBackend } from '@trt-refit/mock-backend';

const fixture = (p: string) => fileURLToPath(new URL(`../fixtures/convbn/${p}`, import.meta.url));

export async function main(log: (line: string) => void = console.log): Promise<boolean> {
  const backend = createMockBackend();
  const checks: [string, boolean][] = [];
  const check = (what: string, ok: boolean, detail: string) => {
    checks.push([what, ok]);
    log(`${ok ? 'refused' : 'NOT REFUSED'}: ${what} -> ${detail}`);
  };
  const thrown = async (f: () => unknown) => {
    try {
      await f();
      return undefined;
    } catch (e) {
      return e;
    }
  };

  // 1. A truncated ONNX file: the parser says false and why.
  const onnx = new Uint8Array(await readFile(fixture('convbn_a.onnx')));
  const parser = backend.createOnnxParser(backend.createBuilder().createNetwork());
  const parsed = await parser.parse(onnx.subarray(0, onnx.byteLength >> 1));
  check('a truncated ONNX model', !parsed && parser.getNbErrors() > 0, parser.getError(0)?.desc ?? '');

  // 2. A damaged plan: a typed error with a code.
  const builder = backend.createBuilder();
  const network = builder.createNetwork();
  await backend.createOnnxParser(network).parse(onnx);
  const config = builder.createBuilderConfig();
  config.setFlag(BuilderFlag.REFIT);
  const plan = await builder.buildSerializedNetwork(network, config);
  const damaged = plan.slice();
  damaged[damaged.byteLength >> 1]! ^= 0xff;
  const e2 = await thrown(() => backend.createRuntime().deserializeCudaEngine(damaged));
  check('a plan with one flipped byte', isTrtRefitError(e2), isTrtRefitError(e2) ? `${e2.code}: ${e2.message}` : String(e2));

  // 3. Weights of the wrong type or count, or an unknown name: false, the reason logged, the engine unchanged.
  const engine = await backend.createRuntime().deserializeCudaEngine(plan);
  const logger = new MemoryLogger();
  const refitter = backend.createRefitter(engine, logger);
  const name = refitter.getAllWeights()[0]!;
  const proto = refitter.getWeightsPrototype(name);
  const wrongType = refitter.setNamedWeights(name, { type: DataType.INT32, values: new Int32Array(proto.count), count: proto.count });
  const wrongCount = refitter.setNamedWeights(name, { type: DataType.FLOAT, values: new Float32Array(1), count: 1 });
  const unknown = refitter.setNamedWeights('no.such.weight', { type: DataType.FLOAT, values: new Float32Array(1), count: 1 });
  check('weights of the wrong type, the wrong count, an unknown name', !wrongType && !wrongCount && !unknown, logger.errors().join(' | '));

  // 4. External data that points outside the model's folder: false, naming the tensor and the file.
  const dir = mkdtempSync(join(tmpdir(), 'trt-refit-bad-'));
  const { model } = writeOnnxModel({
    nodes: [{ opType: 'Identity', inputs: ['c1.weight'], outputs: ['y'] }],
    initializers: [{ name: 'c1.weight', dataType: 1, dims: [216], externalData: [{ key: 'location', value: '../../etc/passwd' }, { key: 'length', value: '864' }] }],
  });
  writeFileSync(join(dir, 'escape.onnx'), model);
  const parserRefitter = backend.createParserRefitter(refitter);
  const escaped = await parserRefitter.refitFromFile(join(dir, 'escape.onnx'));
  check('external data outside the model folder', !escaped, parserRefitter.getError(0)?.desc ?? '');

  // 5. Use after dispose: a DisposedError, not a crash.
  refitter.dispose();
  const e5 = await thrown(() => refitter.getAllWeights());
  check('a refitter used after dispose', isTrtRefitError(e5), isTrtRefitError(e5) ? `${e5.code}: ${e5.message}` : String(e5));

  return checks.every(([, ok]) => ok);
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = (await main()) ? 0 : 1;
