export * from './errors.js';
export * from './crc32c.js';
export * from './batch-header.js';
export * from './codec.js';
export * from './varint.js';
export * from './compression.js';
export * from './record-decoder.js';
