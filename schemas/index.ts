export * from './errors.js';
export * from './serde.js';
