export * from './engine-model.js';
export * from './plan-file.js';
export * from './device.js';
export { MockEngine } from './mock-engine.js';
export { MockRefitter } from './mock-refitter.js';
export { MockRuntime, writeLeanRuntime } from './mock-runtime.js';
export { MockBuilder, MockBuilderConfig } from './mock-builder.js';
export { MockSerializationConfig } from './serialization-config.js';
export { createMockBackend, type MockBackendOptions } from './mock-backend.js';
