import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dir = fileURLToPath(new URL('../../../examples/', import.meta.url));
const examples = readdirSync(dir).filter((f) => f.endsWith('.ts'));

describe('examples/ (run by the tests so they never rot)', () => {
  it('there is an example per main workflow', () => {
    expect(examples.length).toBeGreaterThanOrEqual(6);
  });
  it.each(examples)('%s runs and its checks pass', async (file) => {
    const lines: string[] = [];
    const mod = (await import(`${dir}${file}`)) as { main: (log: (l: string) => void) => Promise<boolean> };
    expect(await mod.main((l) => lines.push(l))).toBe(true);
    expect(lines.length).toBeGreaterThan(0);
  });
});
