import { describe, expect, it } from 'vitest';
import { skipTest } from '../src/conformance/context.js';

describe('conformance skipTest', () => {
  it('never falls through: a runner whose skip does not throw gets an error, not a green test', () => {
    const reasons: string[] = [];
    expect(() => skipTest({ skip: (r) => void reasons.push(r) }, 'no lean runtime')).toThrow(/skipped without stopping the test: no lean runtime/);
    expect(reasons).toEqual(['no lean runtime']);
  });
  it('with vitest it skips, with the reason', (t) => {
    skipTest(t, 'shown as skipped: this test checks that skipTest stops it');
    throw new Error('unreachable: skipTest returned');
  });
});
