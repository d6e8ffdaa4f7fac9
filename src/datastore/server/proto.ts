// etcd's own v3 API definitions, as shipped in the etcd3 package (node_modules/etcd3/proto),
// loaded once with @grpc/proto-loader. Requests arrive as plain objects with snake_case
// fields, int64 as decimal strings, enums as numbers, bytes as Buffer and defaults filled in.
import { createRequire } from 'node:module';
import path from 'node:path';
import * as protoLoader from '@grpc/proto-loader';
import * as grpc from '@grpc/grpc-js';

const require = createRequire(import.meta.url);

export const PROTO_DIR = path.join(path.dirname(require.resolve('etcd3/package.json')), 'proto');

export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: Number,
  bytes: Buffer,
  defaults: true,
  oneofs: true,
};

let cached: grpc.GrpcObject | undefined;

/** The loaded `etcdserverpb` package (services KV, Watch, Lease, Cluster, Maintenance, Auth). */
export function etcdProto(): grpc.GrpcObject {
  if (!cached) {
    const def = protoLoader.loadSync(path.join(PROTO_DIR, 'rpc.proto'), { ...LOADER_OPTIONS, includeDirs: [PROTO_DIR] });
    cached = grpc.loadPackageDefinition(def);
  }
  return cached['etcdserverpb'] as grpc.GrpcObject;
}

export function serviceDefinition(name: string): grpc.ServiceDefinition {
  const ctor = etcdProto()[name] as grpc.ServiceClientConstructor | undefined;
  if (!ctor) throw new Error(`etcd proto has no service ${name}`);
  return ctor.service;
}

// ---- request/response shapes (only the fields we read or write) ----

export type Int64 = string | number;

export interface KeyValue {
  key: Buffer;
  create_revision: number;
  mod_revision: number;
  version: number;
  value: Buffer;
  lease: string;
}

export interface Event {
  type: number; // 0 PUT, 1 DELETE
  kv: KeyValue;
  prev_kv?: KeyValue | null;
}

export interface RangeRequest {
  key: Buffer;
  range_end: Buffer;
  limit: Int64;
  revision: Int64;
  sort_order: number;
  sort_target: number;
  serializable: boolean;
  keys_only: boolean;
  count_only: boolean;
  min_mod_revision: Int64;
  max_mod_revision: Int64;
  min_create_revision: Int64;
  max_create_revision: Int64;
}

export interface PutRequest {
  key: Buffer;
  value: Buffer;
  lease: Int64;
  prev_kv: boolean;
  ignore_value: boolean;
  ignore_lease: boolean;
}

export interface DeleteRangeRequest {
  key: Buffer;
  range_end: Buffer;
  prev_kv: boolean;
}

export interface RequestOp {
  request?: 'request_range' | 'request_put' | 'request_delete_range' | 'request_txn';
  request_range?: RangeRequest | null;
  request_put?: PutRequest | null;
  request_delete_range?: DeleteRangeRequest | null;
  request_txn?: TxnRequest | null;
}

export interface Compare {
  result: number; // 0 EQUAL 1 GREATER 2 LESS 3 NOT_EQUAL
  target: number; // 0 VERSION 1 CREATE 2 MOD 3 VALUE 4 LEASE
  key: Buffer;
  target_union?: 'version' | 'create_revision' | 'mod_revision' | 'value' | 'lease';
  version?: Int64;
  create_revision?: Int64;
  mod_revision?: Int64;
  value?: Buffer;
  lease?: Int64;
  range_end: Buffer;
}

export interface TxnRequest {
  compare: Compare[];
  success: RequestOp[];
  failure: RequestOp[];
}

export interface Header {
  cluster_id?: string;
  member_id?: string;
  revision: number;
  raft_term?: string;
}

export interface RangeResponse {
  header: Header;
  kvs: KeyValue[];
  more: boolean;
  count: number;
}
export interface PutResponse {
  header: Header;
  prev_kv?: KeyValue | null;
}
export interface DeleteRangeResponse {
  header: Header;
  deleted: number;
  prev_kvs: KeyValue[];
}
export interface ResponseOp {
  response_range?: RangeResponse;
  response_put?: PutResponse;
  response_delete_range?: DeleteRangeResponse;
  response_txn?: TxnResponse;
}
export interface TxnResponse {
  header: Header;
  succeeded: boolean;
  responses: ResponseOp[];
}
