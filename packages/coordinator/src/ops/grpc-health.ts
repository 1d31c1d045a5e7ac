// The standard grpc.health.v1.Health service, so grpc_health_probe and load balancers can ask a
// samsa node whether it serves. The overall service ("") follows the node's readiness.

import * as grpc from '@grpc/grpc-js';
import { loadProto, lookup } from './proto.js';

export type ServingStatus = 'SERVING' | 'NOT_SERVING';

interface HealthRequest {
  service: string;
}

const MAX_HEALTH_WATCHERS = 256;

export class GrpcHealth {
  private readonly statuses = new Map<string, ServingStatus>();
  private readonly watchers = new Set<{ service: string; call: grpc.ServerWritableStream<HealthRequest, unknown> }>();

  set(service: string, status: ServingStatus): void {
    if (this.statuses.get(service) === status) return;
    this.statuses.set(service, status);
    for (const w of this.watchers) if (w.service === service) w.call.write({ status });
  }

  /** Adds grpc.health.v1.Health to `server`. */
  addTo(server: grpc.Server): void {
    const pkg = loadProto('grpc/health/v1/health.proto');
    const service = lookup<grpc.ServiceClientConstructor>(pkg, 'grpc.health.v1.Health').service;
    server.addService(service, {
      check: (call: grpc.ServerUnaryCall<HealthRequest, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        const status = this.statuses.get(call.request.service);
        if (!status) cb({ code: grpc.status.NOT_FOUND, details: `unknown service ${call.request.service}` });
        else cb(null, { status });
      },
      watch: (call: grpc.ServerWritableStream<HealthRequest, unknown>) => {
        if (this.watchers.size >= MAX_HEALTH_WATCHERS) {
          call.emit('error', { code: grpc.status.RESOURCE_EXHAUSTED, details: 'too many health watchers' });
          return;
        }
        const w = { service: call.request.service, call };
        this.watchers.add(w);
        call.write({ status: this.statuses.get(w.service) ?? 'SERVICE_UNKNOWN' });
        const drop = (): void => {
          this.watchers.delete(w);
        };
        call.on('cancelled', drop);
        call.on('close', drop);
        call.on('error', drop);
      },
    });
  }

  close(): void {
    for (const w of this.watchers) w.call.end();
    this.watchers.clear();
  }
}
