// TypeScript shapes of the coordinator.proto messages as @grpc/proto-loader hands them over
// (camelCase fields, longs as numbers, enums as strings, defaults filled in).

export interface ProtoError {
  code: string;
  message: string;
  path: string;
  leaderId: number;
  opIndex: number;
}

export interface WireStat {
  czxid: number;
  mzxid: number;
  pzxid: number;
  ctime: number;
  mtime: number;
  version: number;
  cversion: number;
  ephemeralOwner: number;
  dataLength: number;
  numChildren: number;
}

export type WireCreateMode = 'PERSISTENT' | 'EPHEMERAL' | 'PERSISTENT_SEQUENTIAL' | 'EPHEMERAL_SEQUENTIAL';
export type WireWatchKind = 'DATA' | 'CHILDREN' | 'EXISTS';
export type WireEventType = 'CREATED' | 'DELETED' | 'DATA_CHANGED' | 'CHILDREN_CHANGED';

export interface WireCreateRequest {
  path: string;
  data: Buffer;
  mode: WireCreateMode;
  sessionId: number;
}
export interface WireSetRequest {
  path: string;
  data: Buffer;
  version: number;
}
export interface WireDeleteRequest {
  path: string;
  version: number;
}
export interface WireCheckOp {
  path: string;
  version: number;
}
export type WireOp =
  | { check: WireCheckOp; op?: 'check' }
  | { create: WireCreateRequest; op?: 'create' }
  | { set: WireSetRequest; op?: 'set' }
  | { delete: WireDeleteRequest; op?: 'delete' };

export interface WireOpResult {
  path: string;
  stat: WireStat | null;
}

export interface WireMemberStatus {
  id: number;
  address: string;
  role: string;
  term: number;
  commitIndex: number;
}

export interface WireStatus {
  id: number;
  role: string;
  term: number;
  commitIndex: number;
  appliedIndex: number;
  leaderId: number;
  sessions: number;
  znodes: number;
  members: WireMemberStatus[];
  address: string;
}

export interface WireAddWatch {
  watchId: number;
  path: string;
  kind: WireWatchKind;
  persistent: boolean;
  recursive: boolean;
}

export interface WireWatchRequest {
  add?: WireAddWatch;
  remove?: { watchId: number };
  resume?: { afterIndex: number; watches: WireAddWatch[] };
  request?: 'add' | 'remove' | 'resume';
}

export interface WireWatchEvent {
  watchId: number;
  type: WireEventType;
  path: string;
  index: number;
  error: ProtoError | null;
  added: boolean;
  progress: boolean;
}

/** The requests that may travel on the Requests stream (the oneof names of ClientRequest). */
export type WireStreamOp = 'create' | 'get' | 'set' | 'delete' | 'exists' | 'children' | 'multi';

/** ClientRequest as decoded (`request` names the oneof member that is set). */
export interface WireClientRequest {
  correlationId: number;
  request?: WireStreamOp;
  create?: WireCreateRequest;
  get?: { path: string };
  set?: WireSetRequest;
  delete?: WireDeleteRequest;
  exists?: { path: string };
  children?: { path: string };
  multi?: { ops: WireOp[] };
}

/** ClientResponse as decoded: the member named by `response`, or `error` for a refused request. */
export interface WireClientResponse {
  correlationId: number;
  response?: WireStreamOp;
  error: ProtoError | null;
  [op: string]: unknown;
}
