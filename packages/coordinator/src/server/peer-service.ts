// The Peer gRPC service: Raft traffic from other members, writes forwarded by followers, and
// session heartbeats relayed to the leader. Garbage from the network is rejected per message;
// it never reaches the Raft core unvalidated and never takes the node down.

import * as grpc from '@grpc/grpc-js';
import { decodeMessage } from '../raft/message-codec.js';
import type { Message } from '../raft/types.js';
import { decodeTreeCommand } from '../tree/command-codec.js';
import { CoordinatorError } from '../tree/errors.js';
import type { Logger } from '../ops/logger.js';
import { errorToWire } from '../client/wire-convert.js';
import type { WireStatus } from '../client/wire-types.js';
import { encodeOutcome, type CoordinatorNode } from './coordinator-node.js';

const MAX_MESSAGES_PER_BATCH = 100_000;
const MAX_TOUCHED_SESSIONS = 100_000;

export function peerServiceHandlers(node: CoordinatorNode, logger: Logger, selfStatus: () => WireStatus): grpc.UntypedServiceImplementation {
  return {
    deliver: (call: grpc.ServerUnaryCall<{ from: number; messages: Buffer[] }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const raw = call.request.messages ?? [];
      if (raw.length > MAX_MESSAGES_PER_BATCH) {
        callback({ code: grpc.status.RESOURCE_EXHAUSTED, details: `more than ${MAX_MESSAGES_PER_BATCH} messages in one batch` });
        return;
      }
      const messages: Message[] = [];
      for (const bytes of raw) {
        try {
          messages.push(decodeMessage(bytes.toString('utf8')));
        } catch (err) {
          logger.warn('dropped undecodable Raft message', { from: call.request.from, error: err });
        }
      }
      node.receive(messages);
      callback(null, {});
    },

    forward: (call: grpc.ServerUnaryCall<{ command: Buffer }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      let data: Uint8Array;
      try {
        decodeTreeCommand(call.request.command); // reject garbage before it reaches the log
        data = new Uint8Array(call.request.command);
      } catch (err) {
        callback(null, { error: errorToWire(err) });
        return;
      }
      if (node.currentRole !== 'leader') {
        const leaderId = node.leaderId ?? 0;
        callback(null, { error: errorToWire(new CoordinatorError('NOT_LEADER', { details: leaderId ? { leaderId } : {} })) });
        return;
      }
      node
        .proposeLocal(data)
        .then((outcome) => callback(null, { result: encodeOutcome(outcome), index: outcome.index }))
        .catch((err: unknown) => callback(null, { error: errorToWire(err) }));
    },

    touchSessions: (call: grpc.ServerUnaryCall<{ sessionIds: number[] }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const ids = (call.request.sessionIds ?? []).slice(0, MAX_TOUCHED_SESSIONS);
      callback(null, { expired: node.touchSessionsFromPeer(ids) });
    },

    status: (_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<WireStatus>) => {
      callback(null, selfStatus());
    },
  };
}
