import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BuilderFlag, NetworkDefinition, SerializationFlag, TrtRefitErrorCode, hostBytes, type CudaEngine, type Refitter, type Weights } from '@trt-refit/core';
import { importOnnxModel, openOnnxModel } from '@trt-refit/onnx';
import { createMockBackend, readPlan } from '@trt-refit/mock-backend';

const fixture = (p: string) => fileURLToPath(new URL(`../../../fixtures/convbn/${p}`, import.meta.url));

/** The weights of a model as the engine names them (BN folded), by name. */
async function weightsOf(path: string): Promise<Map<string, Weights>> {
  const n = new NetworkDefinition();
  await importOnnxModel(await openOnnxModel(path), n);
  return new Map(n.weightsEntries().map((e) => [e.name, e.weights]));
}
const hex = (w: Uint8Array) => Buffer.from(w).toString('hex');

describe('refit state machine on the mock engine (property-based, with serialize and deserialize)', () => {
  it('random sequences of set / unset / getMissing / refit / serialize+deserialize agree with a reference model', async () => {
    const backend = createMockBackend();
    const builder = backend.createBuilder();
    const network = builder.createNetwork();
    expect(await backend.createOnnxParser(network).parseFromFile(fixture('convbn_a.onnx'))).toBe(true);
    const config = builder.createBuilderConfig();
    config.setFlag(BuilderFlag.REFIT);
    const plan0 = await builder.buildSerializedNetwork(network, config);
    const contents = readPlan(plan0);
    const names = contents.weights.filter((w) => w.refittable).map((w) => w.name).sort();
    const groupOf = new Map<string, readonly string[]>();
    for (const g of contents.fusionGroups) for (const n of g) groupOf.set(n, g);
    const values = { A: await weightsOf(fixture('convbn_a.onnx')), B: await weightsOf(fixture('convbn_b.onnx')) };
    const bytesOf = (v: 'A' | 'B', n: string) => hex(hostBytes(values[v].get(n)!));

    const op = fc.oneof(
      { weight: 4, arbitrary: fc.record({ kind: fc.constant('set' as const), i: fc.nat(names.length - 1), v: fc.constantFrom('A' as const, 'B' as const) }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('unset' as const), i: fc.nat(names.length - 1) }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('missing' as const) }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('refit' as const) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('reload' as const), keepRefit: fc.boolean() }) },
    );
    const runtime = backend.createRuntime();
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 10 }), async (ops) => {
        let engine: CudaEngine = await runtime.deserializeCudaEngine(plan0);
        let refitter: Refitter = backend.createRefitter(engine);
        let refittable = true;
        // reference: what the engine holds, and what is set on the current refitter
        const held = new Map(names.map((n) => [n, 'A' as 'A' | 'B']));
        const set = new Map<string, 'A' | 'B'>();
        // weights a failed refit was given: undefined in TensorRT until a successful refit sets them again
        const undefinedWeights = new Set<string>();
        const missing = () => [...new Set([...set.keys()].flatMap((n) => groupOf.get(n) ?? [n]))].filter((n) => !set.has(n)).sort();
        for (const o of ops) {
          if (!refittable) {
            expect(() => backend.createRefitter(engine)).toThrow(/not refittable/);
            break;
          }
          if (o.kind === 'set') {
            const n = names[o.i]!;
            expect(refitter.setNamedWeights(n, values[o.v].get(n)!)).toBe(true);
            set.set(n, o.v);
          } else if (o.kind === 'unset') {
            const n = names[o.i]!;
            expect(refitter.unsetNamedWeights(n)).toBe(set.delete(n));
          } else if (o.kind === 'missing') {
            expect(refitter.getMissingWeights().sort()).toEqual(missing());
          } else if (o.kind === 'refit') {
            const ok = missing().length === 0;
            expect(await refitter.refitCudaEngine()).toBe(ok);
            if (ok) for (const [n, v] of set) (held.set(n, v), undefinedWeights.delete(n));
            else for (const n of set.keys()) undefinedWeights.add(n);
          } else if (undefinedWeights.size) {
            // the engine holds a mix TensorRT does not define: the mock refuses to write it
            expect(() => engine.serializeWithConfig(engine.createSerializationConfig())).toThrow(expect.objectContaining({ code: TrtRefitErrorCode.UNDEFINED_BEHAVIOR }));
          } else {
            // serialize a full plan (refittable or not), check every weight's bytes, deserialize, start afresh
            const sc = engine.createSerializationConfig();
            sc.clearFlag(SerializationFlag.EXCLUDE_WEIGHTS);
            if (o.keepRefit) sc.setFlag(SerializationFlag.INCLUDE_REFIT);
            const bytes = engine.serializeWithConfig(sc);
            for (const w of readPlan(bytes).weights.filter((x) => names.includes(x.name))) expect(hex(w.data!), w.name).toBe(bytesOf(held.get(w.name)!, w.name));
            engine = await runtime.deserializeCudaEngine(bytes);
            refittable = engine.isRefittable();
            if (o.keepRefit) expect(refittable).toBe(true); // without INCLUDE_REFIT a REFIT engine stays refittable too (only stripped builds lose it)
            if (refittable) refitter = backend.createRefitter(engine);
            set.clear();
          }
        }
      }),
      { numRuns: 10_000 },
    );
  }, 120_000);
});
