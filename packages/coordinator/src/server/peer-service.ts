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
import type { ProtoError, WireStatus } from '../client/wire-types.js';
import { encodeOutcome, type CoordinatorNode } from './coordinator-node.js';
import { ResponseBatcher } from '../client/correlated-stream.js';

const MAX_MESSAGES_PER_BATCH = 100_000;
const MAX_TOUCHED_SESSIONS = 100_000;
/** Forwarded writes one follower's stream may have in flight here; beyond, they are refused. */
const MAX_FORWARDS_PER_STREAM = 10_000;

interface RaftBatch {
  from: number;
  messages: Buffer[];
}
interface ForwardAnswer {
  error?: ProtoError;
  result?: Buffer;
  index?: number;
}
interface ForwardStreamRequest {
  correlationId: number;
  command: Buffer;
}
type ForwardStreamResponse = ForwardAnswer & { correlationId: number };

export function peerServiceHandlers(node: CoordinatorNode, logger: Logger, selfStatus: () => WireStatus): grpc.UntypedServiceImplementation {
  /** Decodes a batch and hands it to the node; an error message if the batch as a whole is refused. */
  const deliver = (batch: RaftBatch): string | null => {
    const raw = batch.messages ?? [];
    if (raw.length > MAX_MESSAGES_PER_BATCH) return `more than ${MAX_MESSAGES_PER_BATCH} messages in one batch`;
    const messages: Message[] = [];
    for (const bytes of raw) {
      try {
        messages.push(decodeMessage(bytes.toString('utf8')));
      } catch (err) {
        logger.warn('dropped undecodable Raft message', { from: batch.from, error: err });
      }
    }
    node.receive(messages);
    return null;
  };

  /** Proposes a follower's write here (we must lead); the answer carries its outcome or error. */
  const forward = (command: Buffer): Promise<ForwardAnswer> => {
    let data: Uint8Array;
    try {
      decodeTreeCommand(command); // reject garbage before it reaches the log
      data = new Uint8Array(command);
    } catch (err) {
      return Promise.resolve({ error: errorToWire(err) });
    }
    if (node.currentRole !== 'leader') {
      const leaderId = node.leaderId ?? 0;
      return Promise.resolve({ error: errorToWire(new CoordinatorError('NOT_LEADER', { details: leaderId ? { leaderId } : {} })) });
    }
    return node.proposeLocal(data).then(
      (outcome) => ({ result: encodeOutcome(outcome), index: outcome.index }),
      (err: unknown) => ({ error: errorToWire(err) }),
    );
  };

  return {
    deliver: (call: grpc.ServerUnaryCall<RaftBatch, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const refused = deliver(call.request);
      if (refused) callback({ code: grpc.status.RESOURCE_EXHAUSTED, details: refused });
      else callback(null, {});
    },

    deliverStream: (call: grpc.ServerReadableStream<RaftBatch, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      let ended = false;
      const end = (err: grpc.ServiceError | null): void => {
        if (ended) return;
        ended = true;
        callback(err, err ? undefined : {});
      };
      call.on('data', (batch: RaftBatch) => {
        const refused = deliver(batch);
        if (refused) {
          logger.warn('refused a Raft batch', { from: batch.from, reason: refused });
          end(Object.assign(new Error(refused), { code: grpc.status.RESOURCE_EXHAUSTED, details: refused, metadata: new grpc.Metadata() }));
        }
      });
      call.on('end', () => end(null));
      call.on('error', () => end(null));
    },

    forward: (call: grpc.ServerUnaryCall<{ command: Buffer }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      void forward(call.request.command).then((answer) => callback(null, answer));
    },

    forwardStream: (call: grpc.ServerDuplexStream<{ requests: ForwardStreamRequest[] }, { responses: ForwardStreamResponse[] }>) => {
      const out = new ResponseBatcher<ForwardStreamResponse>(call);
      call.on('data', (batch: { requests: ForwardStreamRequest[] }) => {
        for (const req of batch.requests ?? []) {
          const correlationId = req.correlationId;
          if (out.inProgress >= MAX_FORWARDS_PER_STREAM) {
            const error = errorToWire(new CoordinatorError('UNAVAILABLE', { message: `${MAX_FORWARDS_PER_STREAM} forwarded writes in flight on this stream` }));
            out.answer({ correlationId, error });
            continue;
          }
          out.track(forward(req.command).then((answer) => ({ correlationId, ...answer })));
        }
      });
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
