export * from './types.js';
export * from './errors.js';
export * from './config.js';
export * from './random.js';
export * from './message-validation.js';
export * from './message-codec.js';
export * from './raft-node.js';
