// The controller's public surface: the Controller driver, the BrokerChannel the broker
// implements, and the pure decision logic (exported for the CLI, the broker and tests).
export * from './broker-channel.js';
export * from './controller.js';
export * from './controller-clock.js';
export * from './controller-config.js';
export * from './controller-errors.js';
export * from './leader-election-strategies.js';
export * from './leader-imbalance.js';
export * from './replica-assignment.js';
export * from './topic-admin-plans.js';
export * from './topic-config.js';
export * from './topic-name.js';
export * from './znodes.js';
