#!/usr/bin/env node
import { runCli } from './program.js';

// A closed pipe (`trt-refit inspect big.onnx | head`) ends the output, not the process with a crash.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

process.exitCode = await runCli(process.argv.slice(2));
