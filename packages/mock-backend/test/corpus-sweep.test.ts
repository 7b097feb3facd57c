// The corpus sweep (../shared/corpus: third-party ONNX test data, never copied here): every model is imported as
// TensorRT's parser would, built, executed and compared with onnxruntime. Figures are printed; the test asserts that
// every refusal is one TensorRT itself makes (or a reader refusal of a damaged file), and that what runs matches.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { BuilderFlag, isTrtRefitError, type HostTensor } from '@trt-refit/core';
import { openOnnxModel, type OnnxModel } from '@trt-refit/onnx';
import { createMockBackend } from '@trt-refit/mock-backend';

const corpus = fileURLToPath(new URL('../../../../shared/corpus', import.meta.url));
const models = (dir: string): string[] =>
  existsSync(dir)
    ? readdirSync(dir).flatMap((e) => {
        const p = join(dir, e);
        return statSync(p).isDirectory() ? models(p) : p.endsWith('.onnx') ? [p] : [];
      })
    : [];
const files = models(corpus).sort();

/** The reasons TensorRT's own parser gives for a model it refuses (docs/fidelity.md F-OPERATOR-MATRIX and conversions). */
const TENSORRT_REASONS = /must be an initializer and evaluate to False|training_mode must be 0|sequence_lens|no supported value attribute|does not support|Plugin not found|which TensorRT (does not support|networks do not support)|Unexpected size for the external weights|Non-zero zero point|Scale coefficients|UINT8 quantization|Invalid data type provided for BatchNormalization|must be 1-D|external data|sparse|STRING/;

/** Inputs for a model: deterministic values of each graph input's type and shape (dynamic dimensions as 2). */
function inputsFor(model: OnnxModel): { host: Record<string, HostTensor>; ort: Record<string, ort.Tensor> } | string {
  const inits = new Set((model.graph.initializer ?? []).map((t) => t.name));
  const host: Record<string, HostTensor> = {};
  const feeds: Record<string, ort.Tensor> = {};
  for (const v of model.graph.input ?? []) {
    if (inits.has(v.name ?? '')) continue;
    const t = v.type?.tensorType;
    if (!t) return `input ${v.name} is not a tensor`;
    const dims = (t.shape?.dim ?? []).map((d) => (d.dimValue != null ? Number(d.dimValue) : 2));
    const n = dims.reduce((a, b) => a * b, 1);
    const wave = Array.from({ length: n }, (_, i) => Math.sin(i * 0.7 + 0.3));
    switch (t.elemType) {
      case 1: {
        const data = Float32Array.from(wave);
        host[v.name!] = { data, dims };
        feeds[v.name!] = new ort.Tensor('float32', data, dims);
        break;
      }
      case 7: {
        const data = BigInt64Array.from(wave, (x) => BigInt(Math.abs(Math.round(x * 2))));
        host[v.name!] = { data, dims };
        feeds[v.name!] = new ort.Tensor('int64', data, dims);
        break;
      }
      case 6: {
        const data = Int32Array.from(wave, (x) => Math.abs(Math.round(x * 2)));
        host[v.name!] = { data, dims };
        feeds[v.name!] = new ort.Tensor('int32', data, dims);
        break;
      }
      case 9: {
        const data = Uint8Array.from(wave, (x) => (x > 0 ? 1 : 0));
        host[v.name!] = { data: data as unknown as Int32Array, dims };
        feeds[v.name!] = new ort.Tensor('bool', data, dims);
        break;
      }
      default:
        return `input ${v.name} has element type ${t.elemType}, which the sweep does not generate`;
    }
  }
  return { host, ort: feeds };
}

describe('corpus sweep (../shared/corpus)', () => {
  it.skipIf(files.length === 0)(`every corpus model builds unless TensorRT refuses it, and what runs matches onnxruntime (${files.length} models)`, async () => {
    const tally = { models: files.length, unreadable: 0, built: 0, refused: 0, ran: 0, matched: 0, executorLacks: 0, oracleFailed: 0, notGenerated: 0 };
    const refusals = new Map<string, number>();
    const mismatches: string[] = [];
    for (const f of files) {
      const t0 = Date.now();
      try {
        await sweepOne(f);
      } finally {
        if (process.env.SWEEP_TIMES && Date.now() - t0 > 500) console.log(`slow: ${f} ${Date.now() - t0} ms`);
      }
    }
    async function sweepOne(f: string): Promise<void> {
      let model: OnnxModel;
      try {
        model = await openOnnxModel(f);
      } catch (e) {
        expect(isTrtRefitError(e), `${f}: ${(e as Error).message}`).toBe(true); // a damaged or hostile file: a typed error
        tally.unreadable++;
        return;
      }
      const backend = createMockBackend();
      const builder = backend.createBuilder();
      const network = builder.createNetwork();
      const parser = backend.createOnnxParser(network);
      if (!(await parser.parseFromFile(f))) {
        const reasons = Array.from({ length: parser.getNbErrors() }, (_, i) => parser.getError(i)!);
        for (const r of reasons) {
          expect(r.desc, `${f}: ${r.code}`).toMatch(TENSORRT_REASONS);
          const key = r.nodeOperator ? `${r.code} ${r.nodeOperator}` : r.code;
          refusals.set(key, (refusals.get(key) ?? 0) + 1);
        }
        tally.refused++;
        return;
      }
      let engine;
      try {
        const config = builder.createBuilderConfig();
        config.setFlags([BuilderFlag.REFIT]);
        engine = await backend.createRuntime().deserializeCudaEngine(await builder.buildSerializedNetwork(network, config));
      } catch (e) {
        // an empty graph (no layers or outputs) is the one build failure TensorRT shares
        expect((e as Error).message, f).toMatch(/no layers or no outputs/);
        tally.refused++;
        refusals.set('BUILD_FAILED empty network', (refusals.get('BUILD_FAILED empty network') ?? 0) + 1);
        return;
      }
      tally.built++;
      const inputs = inputsFor(model);
      if (typeof inputs === 'string') {
        tally.notGenerated++;
        return;
      }
      let want: Record<string, ort.Tensor>;
      try {
        want = await (await ort.InferenceSession.create(f)).run(inputs.ort);
      } catch {
        tally.oracleFailed++;
        return;
      }
      let got: Record<string, HostTensor>;
      try {
        got = await engine.createExecutionContext().execute(inputs.host);
      } catch (e) {
        if (/CPU executor cannot run|not supported by the CPU executor|is not run by the CPU executor/.test((e as Error).message)) {
          tally.executorLacks++;
          return;
        }
        mismatches.push(`${f}: ${(e as Error).message}`);
        return;
      }
      tally.ran++;
      const bad = Object.keys(want).filter((name) => {
        const a = Array.from((got[name]?.data ?? []) as ArrayLike<number | bigint>, Number);
        const b = Array.from(want[name]!.data as ArrayLike<number | bigint>, Number);
        return a.length !== b.length || a.some((v, i) => !(Math.abs(v - b[i]!) <= 1e-3 * Math.max(1, Math.abs(b[i]!)) || (Number.isNaN(v) && Number.isNaN(b[i]!))));
      });
      if (bad.length) mismatches.push(`${f}: outputs ${bad.join(', ')} differ from onnxruntime`);
      else tally.matched++;
    }
    console.log(`corpus sweep: ${JSON.stringify(tally)}\nrefusals: ${JSON.stringify(Object.fromEntries([...refusals].sort((a, b) => b[1] - a[1])))}\nmismatches: ${mismatches.length ? `\n  ${mismatches.join('\n  ')}` : 'none'}`);
    expect(mismatches).toEqual([]);
    expect(tally.built).toBeGreaterThan(tally.refused);
  }, 300_000);
  it.skipIf(files.length > 0)('skipped: ../shared/corpus is not present on this machine', () => {});
});
