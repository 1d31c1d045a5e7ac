// The replicated znode tree and the per-node session and watch logic around it.
export * from './errors.js';
export * from './limits.js';
export * from './paths.js';
export * from './commands.js';
export * from './command-codec.js';
export * from './results.js';
export * from './watch-event.js';
export * from './snapshot.js';
export * from './data-tree.js';
export * from './churn-safe-map.js';
export * from './expiry-queue.js';
export * from './session-tracker.js';
export * from './event-history.js';
export * from './watch-manager.js';
