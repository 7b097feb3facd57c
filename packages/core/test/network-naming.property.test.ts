import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DataType, NetworkDefinition, WeightsRole, type Weights } from '@trt-refit/core';

/**
 * A reference model of INetworkDefinition's naming (reference §3.2), written apart from network.ts: weights are
 * identified by (buffer, byteOffset, type, count); a pointer used with two counts can never be named; given names are
 * unique; `null` unnames. Whatever the sequence, every weight in the network has a name of its own.
 */
const BUFFERS = 3;
const spec = fc.record({ b: fc.integer({ min: 0, max: BUFFERS - 1 }), off: fc.constantFrom(0, 16), count: fc.constantFrom(2, 4) });
type Spec = { b: number; off: number; count: number };
const NAMES = ['x', 'y', 'a_kernel', 'a_bias', 'b_kernel', 'a_0_kernel', 'a_kernel_1', 'a_kernel_kernel', null] as const;
const op = fc.oneof(
  fc.record({
    kind: fc.constant('layer' as const),
    layer: fc.constantFrom('a', 'b', 'a_kernel'),
    weights: fc.array(fc.record({ s: spec, role: fc.constantFrom(WeightsRole.KERNEL, WeightsRole.BIAS) }), { minLength: 1, maxLength: 3 }),
  }),
  fc.record({ kind: fc.constant('name' as const), s: spec, name: fc.constantFrom(...NAMES) }),
  fc.record({ kind: fc.constant('mark' as const), name: fc.constantFrom(...NAMES.filter((n) => n !== null), 'a_bias_1', 'b_bias') }),
);

describe('NetworkDefinition naming against a reference model', () => {
  it('keeps names unique and given names where the model says, over random sequences', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 14 }), (ops) => {
        const buffers = Array.from({ length: BUFFERS }, () => new ArrayBuffer(64));
        const weightsOf = (s: Spec): Weights => ({ type: DataType.FLOAT, values: new Float32Array(buffers[s.b]!, s.off, s.count), count: s.count });
        const net = new NetworkDefinition('10.16');
        const key = (s: Spec) => `${s.b}:${s.off}:${s.count}`;
        const used = new Map<string, { given: string | null; s: Spec }>();
        const countsAt = new Map<string, Set<number>>();
        for (const o of ops) {
          if (o.kind === 'layer') {
            net.addLayer({ name: o.layer, type: 'X', outputs: ['t'], weights: o.weights.map((w) => ({ role: w.role, weights: weightsOf(w.s), dims: [w.s.count] })) });
            for (const w of o.weights) {
              if (!used.has(key(w.s))) used.set(key(w.s), { given: null, s: w.s });
              const p = `${w.s.b}:${w.s.off}`;
              countsAt.set(p, (countsAt.get(p) ?? new Set()).add(w.s.count));
            }
          } else if (o.kind === 'name') {
            const entry = used.get(key(o.s));
            const takenByOther = o.name !== null && [...used.entries()].some(([k, v]) => k !== key(o.s) && v.given === o.name);
            const expected = !!entry && countsAt.get(`${o.s.b}:${o.s.off}`)!.size === 1 && !takenByOther;
            expect(net.setWeightsName(weightsOf(o.s), o.name)).toBe(expected);
            if (expected) entry!.given = o.name;
          } else {
            const exists = net.weightsEntries().some((e) => e.name === o.name);
            expect(net.markWeightsRefittable(o.name)).toBe(exists);
            if (exists) expect(net.areWeightsMarkedRefittable(o.name)).toBe(true);
          }
          const entries = net.weightsEntries();
          expect(new Set(entries.map((e) => e.name)).size).toBe(entries.length);
          expect(entries.length).toBe(used.size);
          const givenNames = new Set([...used.values()].map((v) => v.given).filter((n) => n !== null));
          for (const { given, s } of used.values()) {
            const name = net.getWeightsName(weightsOf(s));
            if (given !== null) expect(name).toBe(given);
            else expect(givenNames.has(name!)).toBe(false);
            expect(entries.find((e) => e.name === name)?.named).toBe(given !== null);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});
