export { main, EXIT_USAGE } from './main.js';
export type { CliIo, CliContext } from './context.js';
