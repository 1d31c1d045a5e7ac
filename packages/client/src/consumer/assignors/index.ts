export * from './kafka-binary.js';
export * from './consumer-protocol.js';
export * from './partition-assignor.js';
export * from './range-assignor.js';
export * from './round-robin-assignor.js';
export * from './sticky-assignment.js';
export * from './sticky-assignor.js';
export * from './cooperative-sticky-assignor.js';
