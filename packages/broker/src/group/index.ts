export * from './group-errors.js';
export * from './group-config.js';
export * from './offset-config.js';
export * from './group-types.js';
export * from './offsets-partition.js';
export * from './offsets-records.js';
export * from './append-errors.js';
export { GroupCoordinator, type GroupCoordinatorOptions, type GroupExpiryView, type OffsetDeletionCheck } from './group-coordinator.js';
export * from './offset-store.js';
