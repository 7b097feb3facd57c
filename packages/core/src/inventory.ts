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
