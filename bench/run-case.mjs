// Runs one benchmark case in this process and prints its result as one JSON line on stdout.
import { CASES } from './cases/index.mjs';

const [name, runsText] = process.argv.slice(2);
const c = CASES.find((x) => x.name === name);
if (!c) {
  console.log(JSON.stringify({ name, error: 'unknown case' }));
  process.exit(1);
}
try {
  const result = await c.run({ runs: Number(runsText) || 5 });
  console.log(JSON.stringify({ name, ...result }));
} catch (e) {
  console.log(JSON.stringify({ name, error: String(e?.stack ?? e) }));
  process.exitCode = 1;
}
