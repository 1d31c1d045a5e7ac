// FindCoordinator: which broker coordinates a group (the leader of the __consumer_offsets
// partition the group id hashes to). Asked of the least loaded broker; the answer's errors
// (COORDINATOR_NOT_AVAILABLE while that partition has no leader) are thrown as KafkaErrors for
// the caller's retry loop.

import { brokerAddress } from '../../cluster/metadata-cache.js';
import type { ConnectionPool } from '../../cluster/connection-pool.js';
import type { MetadataManager } from '../../cluster/metadata-manager.js';
import { KafkaError, kafkaErrorFromWire } from '../../protocol/errors.js';
import { COORDINATOR_KEY_TYPE_GROUP } from '../../protocol/group-wire-types.js';
import { validateGroupId } from './group-id.js';

export interface CoordinatorNode {
  id: number;
  host: string;
  port: number;
  /** host:port to connect to. */
  address: string;
}

/** The group errors after which the coordinator must be looked up again (Kafka's markCoordinatorUnknown). */
export function isCoordinatorError(err: unknown): boolean {
  return err instanceof KafkaError && (err.type === 'NOT_COORDINATOR' || err.type === 'COORDINATOR_NOT_AVAILABLE' || err.type === 'NETWORK_EXCEPTION' || err.type === 'REQUEST_TIMED_OUT');
}

export async function findCoordinator(
  deps: { pool: ConnectionPool; metadata: MetadataManager; requestTimeoutMs: number; signal?: AbortSignal },
  groupId: string,
): Promise<CoordinatorNode> {
  validateGroupId(groupId);
  const address = deps.metadata.leastLoadedNode();
  let res;
  try {
    res = await deps.pool.call(address, (api) =>
      api.findCoordinator({ key: groupId, keyType: COORDINATOR_KEY_TYPE_GROUP }, { timeoutMs: deps.requestTimeoutMs, ...(deps.signal ? { signal: deps.signal } : {}) }),
    );
  } catch (err) {
    if (err instanceof KafkaError && err.type === 'NETWORK_EXCEPTION') deps.metadata.nodeFailed(address);
    throw err;
  }
  const err = kafkaErrorFromWire(res.error);
  if (err) throw err;
  if (!Number.isInteger(res.nodeId) || res.nodeId < 0 || !res.host || !Number.isInteger(res.port) || res.port <= 0) {
    throw new KafkaError('COORDINATOR_NOT_AVAILABLE', `FindCoordinator for group '${groupId}' named no usable broker (${res.nodeId} ${res.host}:${res.port})`);
  }
  return { id: res.nodeId, host: res.host, port: res.port, address: brokerAddress(res.host, res.port) };
}
