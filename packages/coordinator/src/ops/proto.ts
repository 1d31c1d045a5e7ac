// Where the .proto contracts live and how they are loaded. The same relative path works from
// src/ (jest, tsx) and dist/ (the built CLI).

import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

export const PROTO_DIR = fileURLToPath(new URL('../../../../proto/', import.meta.url));

const LOAD_OPTIONS: protoLoader.Options = {
  includeDirs: [PROTO_DIR],
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  keepCase: false,
};

const cache = new Map<string, grpc.GrpcObject>();

/** Loads a proto file (relative to PROTO_DIR) once per process. */
export function loadProto(file: string): grpc.GrpcObject {
  let pkg = cache.get(file);
  if (!pkg) {
    pkg = grpc.loadPackageDefinition(protoLoader.loadSync(file, LOAD_OPTIONS));
    cache.set(file, pkg);
  }
  return pkg;
}

/** Looks up a service or message constructor by its dotted name, e.g. "samsa.coordinator.v1.Coordinator". */
export function lookup<T>(pkg: grpc.GrpcObject, dotted: string): T {
  let node: unknown = pkg;
  for (const part of dotted.split('.')) {
    node = (node as Record<string, unknown> | undefined)?.[part];
  }
  if (!node) throw new Error(`proto symbol ${dotted} not found`);
  return node as T;
}
