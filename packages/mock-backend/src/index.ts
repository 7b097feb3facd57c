export * from './engine-model.js';
