// The client logs through this small interface (structurally a subset of @samsa/coordinator's
// Logger), silent unless the application passes one.

export type LogFields = Record<string, unknown>;

export interface ClientLogger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

const noop = (): void => {};
export const silentLogger: ClientLogger = { debug: noop, info: noop, warn: noop, error: noop };
