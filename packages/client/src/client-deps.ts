// What a Producer, Consumer or Admin takes besides its config: the clock, the randomness, the
// connection factory and a logger. Defaults are the real ones; tests pass a manual clock, a
// seeded random and a connector of their own.

import { systemClock, type Clock } from './clock.js';
import { silentLogger, type ClientLogger } from './logger.js';
import { grpcConnector, type BrokerConnector } from './protocol/broker-rpc.js';

export interface ClientDeps {
  clock?: Clock;
  /** Uniform in [0, 1): partitioner stickiness, backoff jitter, node choice. */
  random?: () => number;
  connector?: BrokerConnector;
  logger?: ClientLogger;
}

export interface ResolvedDeps {
  clock: Clock;
  random: () => number;
  connector: BrokerConnector;
  logger: ClientLogger;
}

export function resolveDeps(deps: ClientDeps = {}): ResolvedDeps {
  return {
    clock: deps.clock ?? systemClock,
    random: deps.random ?? Math.random,
    connector: deps.connector ?? grpcConnector,
    logger: deps.logger ?? silentLogger,
  };
}
