// Every benchmark case; each runs in its own child process (bench/run-case.mjs).
import missingSet from './missing-set.mjs';
import mockPlan from './mock-plan.mjs';
import onnxRead from './onnx-read.mjs';
import lora, { loraSwap } from './lora.mjs';

export const CASES = [...onnxRead, missingSet, ...mockPlan, lora, loraSwap];
