export * from './logger.js';
export * from './ops-http-server.js';
export * from './metrics-registry.js';
export * from './grpc-health.js';
export * from './proto.js';
