// A store with every kind of history etcd's file can hold, for the etcd-db tests (not a test file).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeLeaseRecord, leaseKey } from '../lease/index.js';
import { MvccStore } from '../mvcc/index.js';
import { AlarmRequest_AlarmAction, AlarmType } from '../pb/etcdserverpb/rpc.js';
import { AlarmStore } from '../server/alarms.js';
import type { EtcdDbExtra } from './export.js';

const b = (s: string): Buffer => Buffer.from(s);

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'etcd-db-test-'));
}

export const LEASE_ID = 0x694d7a2b3c4d5e6fn;

export const SAMPLE_EXTRA: EtcdDbExtra = {
  consistentIndex: 0, // set by buildSampleStore
  members: [
    {
      id: 0x8e9e05c52164694dn,
      name: 'm1',
      peerUrls: ['http://127.0.0.1:2380'],
      clientUrls: ['http://127.0.0.1:2379'],
      isLearner: false,
    },
    {
      id: 0xfd422379fda50e48n,
      name: '',
      peerUrls: ['http://127.0.0.1:2381'],
      clientUrls: [],
      isLearner: true,
    },
  ],
  removed: [0x1234n, 0xffffffffffffffffn],
  clusterVersion: '3.4.0',
};

/**
 * Puts, a txn with several writes, a multi-key delete (tombstones with sub revisions), a key
 * with a lease, alarms, an auth record, a finished compaction, then more history.
 */
export async function buildSampleStore(
  dbPath: string,
  extraPuts = 200,
): Promise<{ store: MvccStore; extra: EtcdDbExtra }> {
  const store = MvccStore.open(dbPath);
  let index = 1;
  store.put(index++, { key: b('foo'), value: b('bar') });
  store.put(index++, { key: b('foo'), value: b('bar2') });
  store.txn(index++, {
    compare: [],
    success: [
      { request: { $case: 'requestPut', requestPut: { key: b('a'), value: b('1') } } },
      { request: { $case: 'requestPut', requestPut: { key: b('b'), value: b('2') } } },
      { request: { $case: 'requestPut', requestPut: { key: b('c'), value: b('3') } } },
    ],
    failure: [],
  });
  store.deleteRange(index++, { key: b('a'), rangeEnd: b('c') });
  store.putAux('lease', leaseKey(LEASE_ID), encodeLeaseRecord({ id: LEASE_ID, ttl: 600, remainingTtl: 0 }));
  store.markApplied(index++);
  store.put(index++, { key: b('leased'), value: b('v'), lease: LEASE_ID });
  const alarms = new AlarmStore(store);
  alarms.apply(AlarmRequest_AlarmAction.ACTIVATE, {
    memberID: 0x8e9e05c52164694dn,
    alarm: AlarmType.NOSPACE,
  });
  // NOSPACE only: a CORRUPT alarm would make a real etcd started on the file refuse reads.
  alarms.apply(AlarmRequest_AlarmAction.ACTIVATE, { memberID: 7n, alarm: AlarmType.NOSPACE });
  store.putAux('authUsers', b('root'), b('\x0a\x04root\x12\x03pwd\x1a\x04root'));
  store.markApplied(index++);
  await store.compact(index++, 4).done;
  for (let i = 0; i < extraPuts; i++) {
    store.put(index++, {
      key: b(`k/${String(i % 37).padStart(3, '0')}`),
      value: Buffer.alloc(50 + (i % 300), i),
    });
  }
  store.deleteRange(index++, { key: b('k/010') });
  return { store, extra: { ...SAMPLE_EXTRA, consistentIndex: store.consistentIndex() } };
}
