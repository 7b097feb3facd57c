import type { DataType } from './data-type.js';
import type { WeightsRole } from './enums.js';

/** One refittable weight of an engine, as recorded at build time. */
export interface WeightInfo {
  readonly name: string;
  readonly dtype: DataType;
  readonly count: number;
  readonly dims: readonly number[];
  readonly role: WeightsRole;
  /** Layer of the network the weight belongs to (for the legacy layer+role API). */
  readonly layer: string;
  /**
   * The type the engine keeps the weight in, when it converts what it is given (e.g. HALF for FLOAT weights of an
   * FP16 build). Refits then narrow the values, and with weights validation on, values the narrowing overflows are
   * reported as a warning (TensorRT: validation "during FP32 to FP16/BF16 weights conversions"). Absent: the
   * engine keeps the type it is given, and there is nothing to validate.
   */
  readonly engineType?: DataType;
}

/**
 * An engine's refittable weights: what the refit state machine runs over. Backends derive it from their
 * engine (the mock from its plan, the native backend from `getAllWeights` + `getWeightsPrototype`).
 */
export interface WeightInventory {
  /** Every refittable weight (what `getAllWeights` lists), in a stable order. */
  readonly weights: readonly WeightInfo[];
  /**
   * Groups of weight names the engine combined (fusion). Groups may overlap; the missing set treats their
   * connected components as the unit.
   */
  readonly fusionGroups: readonly (readonly string[])[];
  /** Names whose data was stripped from the plan and has not been refitted since. */
  readonly stripped: readonly string[];
}
