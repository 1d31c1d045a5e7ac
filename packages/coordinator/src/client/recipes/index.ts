export * from './leader-election.js';
export * from './group-membership.js';
export * from './config-watcher.js';
export * from './ensemble-health.js';
