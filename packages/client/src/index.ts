export * from './protocol/errors.js';
export * from './protocol/proto.js';
export type * from './protocol/wire-types.js';
export { LATEST_TIMESTAMP, EARLIEST_TIMESTAMP } from './protocol/wire-types.js';
