export {};
export * from './ops/index.js';
export * from './client/rpc.js';
export type * from './client/wire-types.js';
