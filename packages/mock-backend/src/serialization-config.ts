import { SerializationFlag, requireFeature, type SerializationConfig } from '@trt-refit/core';

const ALL = new Set<string>(Object.values(SerializationFlag));

/** `ISerializationConfig` of the mock: flags gated by the emulated version. */
export class MockSerializationConfig implements SerializationConfig {
  private readonly flags = new Set<SerializationFlag>();
  constructor(private readonly tensorrtVersion: string, initial: Iterable<SerializationFlag>) {
    for (const f of initial) this.flags.add(f);
  }
  private ok(flag: SerializationFlag): boolean {
    if (!ALL.has(flag)) return false;
    requireFeature(this.tensorrtVersion, `SerializationFlag.${flag}`);
    return true;
  }
  /**
   * ISerializationConfig::setFlag: see {@link SerializationConfig.setFlag}. Here: false for a name that is not a
   * SerializationFlag; UnsupportedFeatureError for a flag the emulated TensorRT version lacks.
   */
  setFlag(flag: SerializationFlag): boolean {
    if (!this.ok(flag)) return false;
    this.flags.add(flag);
    return true;
  }
  /**
   * ISerializationConfig::clearFlag: see {@link SerializationConfig.clearFlag}. Here: false for a name that is not a
   * SerializationFlag; UnsupportedFeatureError for a flag the emulated TensorRT version lacks.
   */
  clearFlag(flag: SerializationFlag): boolean {
    if (!this.ok(flag)) return false;
    this.flags.delete(flag);
    return true;
  }
  /** ISerializationConfig::getFlag: see {@link SerializationConfig.getFlag}. Here: whether the flag is set. */
  getFlag(flag: SerializationFlag): boolean {
    return this.flags.has(flag);
  }
  setFlags(flags: Iterable<SerializationFlag>): boolean {
    const list = [...flags];
    if (!list.every((f) => this.ok(f))) return false;
    this.flags.clear();
    for (const f of list) this.flags.add(f);
    return true;
  }
  /** ISerializationConfig::getFlags: see {@link SerializationConfig.getFlags}. Here: the flags set, starting from the engine's defaults. */
  getFlags(): SerializationFlag[] {
    return [...this.flags];
  }
}
