export * from './replica/index.js';
export * from './controller/index.js';
