// etcd API calls for the integration tests, on top of harness.Client.
import {
  AlarmRequest,
  AlarmResponse,
  CompactionRequest,
  CompactionResponse,
  DefragmentRequest,
  DefragmentResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
  HashKVRequest,
  HashKVResponse,
  LeaseGrantRequest,
  LeaseGrantResponse,
  LeaseLeasesRequest,
  LeaseLeasesResponse,
  LeaseRevokeRequest,
  LeaseRevokeResponse,
  LeaseTimeToLiveRequest,
  LeaseTimeToLiveResponse,
  MemberListRequest,
  MemberListResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  StatusRequest,
  StatusResponse,
  TxnRequest,
  TxnResponse,
} from '../../src/pb/etcdserverpb/rpc.js';
import { Client, eventually, MemberProcess, memberSpec, removeDir, tempDir } from './harness.js';

const b = (s: string): Buffer => Buffer.from(s);

export class KvClient {
  readonly raw: Client;

  constructor(endpoint: string) {
    this.raw = new Client(endpoint);
  }

  put(key: string, value: string, extra: Partial<PutRequest> = {}, timeoutMs = 5000): Promise<PutResponse> {
    const req = PutRequest.fromPartial({ key: b(key), value: b(value), ...extra });
    return this.raw.call('/etcdserverpb.KV/Put', PutRequest, PutResponse, req, timeoutMs);
  }

  range(key: string, extra: Partial<RangeRequest> = {}, timeoutMs = 5000): Promise<RangeResponse> {
    const req = RangeRequest.fromPartial({ key: b(key), ...extra });
    return this.raw.call('/etcdserverpb.KV/Range', RangeRequest, RangeResponse, req, timeoutMs);
  }

  /** Every key (range_end "\0"). */
  all(extra: Partial<RangeRequest> = {}): Promise<RangeResponse> {
    return this.range('\0', { rangeEnd: Buffer.from([0]), ...extra });
  }

  del(key: string, extra: Partial<DeleteRangeRequest> = {}): Promise<DeleteRangeResponse> {
    const req = DeleteRangeRequest.fromPartial({ key: b(key), ...extra });
    return this.raw.call('/etcdserverpb.KV/DeleteRange', DeleteRangeRequest, DeleteRangeResponse, req);
  }

  txn(req: TxnRequest): Promise<TxnResponse> {
    return this.raw.call('/etcdserverpb.KV/Txn', TxnRequest, TxnResponse, req);
  }

  compact(revision: number, physical = false): Promise<CompactionResponse> {
    const req = CompactionRequest.fromPartial({ revision, physical });
    return this.raw.call('/etcdserverpb.KV/Compact', CompactionRequest, CompactionResponse, req);
  }

  memberList(): Promise<MemberListResponse> {
    return this.raw.call('/etcdserverpb.Cluster/MemberList', MemberListRequest, MemberListResponse, {});
  }

  status(): Promise<StatusResponse> {
    return this.raw.call('/etcdserverpb.Maintenance/Status', StatusRequest, StatusResponse, {});
  }

  defragment(): Promise<DefragmentResponse> {
    return this.raw.call(
      '/etcdserverpb.Maintenance/Defragment',
      DefragmentRequest,
      DefragmentResponse,
      {},
      30_000,
    );
  }

  alarm(req: Partial<AlarmRequest>): Promise<AlarmResponse> {
    const r = AlarmRequest.fromPartial(req);
    return this.raw.call('/etcdserverpb.Maintenance/Alarm', AlarmRequest, AlarmResponse, r);
  }

  hashKV(revision = 0): Promise<HashKVResponse> {
    return this.raw.call('/etcdserverpb.Maintenance/HashKV', HashKVRequest, HashKVResponse, { revision });
  }

  close(): void {
    this.raw.close();
  }
}

/** Lease calls for the integration tests. */
export class LeaseClient {
  constructor(private readonly raw: Client) {}

  grant(ttl: number, id = 0n): Promise<LeaseGrantResponse> {
    return this.raw.call('/etcdserverpb.Lease/LeaseGrant', LeaseGrantRequest, LeaseGrantResponse, {
      TTL: ttl,
      ID: id,
    });
  }

  revoke(id: bigint): Promise<LeaseRevokeResponse> {
    return this.raw.call('/etcdserverpb.Lease/LeaseRevoke', LeaseRevokeRequest, LeaseRevokeResponse, {
      ID: id,
    });
  }

  timeToLive(id: bigint, keys = true): Promise<LeaseTimeToLiveResponse> {
    return this.raw.call(
      '/etcdserverpb.Lease/LeaseTimeToLive',
      LeaseTimeToLiveRequest,
      LeaseTimeToLiveResponse,
      { ID: id, keys },
    );
  }

  leases(): Promise<LeaseLeasesResponse> {
    return this.raw.call('/etcdserverpb.Lease/LeaseLeases', LeaseLeasesRequest, LeaseLeasesResponse, {});
  }
}

/** One started member with KV and lease clients, for tests that need just that. */
export interface RunningMember {
  member: MemberProcess;
  kv: KvClient;
  leases: LeaseClient;
  /** Closes the clients, stops the member and removes its data dir. */
  stop(): Promise<void>;
}

export async function runningMember(name: string, extraArgs: string[] = []): Promise<RunningMember> {
  const dir = tempDir(name);
  const member = new MemberProcess(await memberSpec(name, `${dir}/data`, extraArgs));
  member.start();
  const kv = new KvClient(member.endpoint);
  await eventually(() => kv.put('/ready', 'y'));
  return {
    member,
    kv,
    leases: new LeaseClient(kv.raw),
    stop: async () => {
      kv.raw.close();
      await member.stop();
      removeDir(dir);
    },
  };
}
