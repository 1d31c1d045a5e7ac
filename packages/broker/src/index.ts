export * from './replica/index.js';
export * from './controller/index.js';
export * from './server/broker-config.js';
export * from './server/topic-config.js';
export { BrokerServer, type BrokerServerOptions } from './server/broker-server.js';
export * from './lag/burrow-evaluator.js';
/** The group coordinator (cores, GroupManager, __consumer_offsets codec), as a namespace: its TopicPartitionRef differs from the controller's. */
export * as group from './group/index.js';
