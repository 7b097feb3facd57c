// The check runner the GPU scripts share: each check prints one line (ok / FAIL) and is recorded for the summary.
import { performance } from 'node:perf_hooks';

/** Every check run so far: { name, ok, ms, detail } or { name, ok: false, error }. */
export const results = [];

/** How many checks failed. */
export const failures = () => results.filter((r) => !r.ok).length;

/** Runs one check; what `fn` returns is its detail. A throw fails the check, not the script. */
export async function check(name, fn) {
  const t0 = performance.now();
  try {
    const detail = await fn();
    results.push({ name, ok: true, ms: +(performance.now() - t0).toFixed(2), ...(detail ? { detail } : {}) });
    console.log(`ok   ${name}${detail ? ` ${JSON.stringify(detail)}` : ''}`);
  } catch (e) {
    results.push({ name, ok: false, error: String(e?.stack ?? e) });
    console.log(`FAIL ${name}: ${e?.stack ?? e}`);
  }
}

export function assert(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}
