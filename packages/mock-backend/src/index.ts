export * from './engine-model.js';
export * from './plan-file.js';
