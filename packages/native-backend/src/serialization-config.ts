import { requireFeature, type SerializationConfig, type SerializationFlag } from '@trt-refit/core';
import type { NativeSerializationConfig as RawConfig } from './binding.js';
import type { LogBridge } from './diagnostics.js';
import { serializationFlagBit, serializationFlagNames } from './native-enums.js';
import { NativeResource } from './native-resource.js';
import { expectIterable, expectSerializationFlag } from './validate.js';

/** `ISerializationConfig`: flags by name; booleans are TensorRT's. */
export class NativeSerializationConfig extends NativeResource<RawConfig> implements SerializationConfig {
  /** @internal */
  constructor(
    native: RawConfig,
    log: LogBridge,
    private readonly version: string,
  ) {
    super(native, log, 'SerializationConfig');
  }

  /**
   * ISerializationConfig::setFlag: see {@link SerializationConfig.setFlag}. Here: TensorRT's answer;
   * UnsupportedFeatureError for a flag this TensorRT version lacks.
   */
  setFlag(flag: SerializationFlag): boolean {
    const f = this.known(flag);
    return this.call((n) => n.setFlag(serializationFlagBit(f)));
  }

  /** ISerializationConfig::clearFlag: see {@link SerializationConfig.clearFlag}. Here: TensorRT's answer. */
  clearFlag(flag: SerializationFlag): boolean {
    const f = this.known(flag);
    return this.call((n) => n.clearFlag(serializationFlagBit(f)));
  }

  /** ISerializationConfig::getFlag: see {@link SerializationConfig.getFlag}. Here: TensorRT's answer. */
  getFlag(flag: SerializationFlag): boolean {
    const f = this.known(flag);
    return this.call((n) => n.getFlag(serializationFlagBit(f)));
  }

  setFlags(flags: Iterable<SerializationFlag>): boolean {
    const list = [...expectIterable<SerializationFlag>(flags, 'flags')].map((f, i) => this.known(f, `flags[${i}]`));
    const mask = list.reduce((m, f) => m | (1 << serializationFlagBit(f)), 0) >>> 0;
    return this.call((n) => n.setFlags(mask));
  }

  /** ISerializationConfig::getFlags: see {@link SerializationConfig.getFlags}. Here: TensorRT's mask as names. */
  getFlags(): SerializationFlag[] {
    return this.call((n) => serializationFlagNames(n.getFlags()));
  }

  private known(flag: unknown, parameter = 'flag'): SerializationFlag {
    const f = expectSerializationFlag(flag, parameter);
    requireFeature(this.version, `SerializationFlag.${f}`);
    return f;
  }

  /** @internal */
  raw(): RawConfig {
    return this.live();
  }
}
