import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HealthCheckResponse_ServingStatus as ServingStatus } from '../../pb/grpc/health/v1/health.js';
import { FakeKv } from '../../server/coordination/fake-kv.js';
import { GrpcError, Status } from '../grpc/status.js';
import type { CallContext, ResponseSink } from '../grpc/types.js';
import { electionService } from './election.js';
import { healthService } from './health.js';
import { lockService } from './lock.js';

const enc = (s: string): Buffer => Buffer.from(s, 'latin1');
const str = (b: Uint8Array | undefined): string => Buffer.from(b ?? new Uint8Array(0)).toString('latin1');

async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  await flush();
  return done;
}

function call(signal: AbortSignal = new AbortController().signal): CallContext {
  return { method: '/test/Call', metadata: {}, timeoutMs: undefined, signal };
}

/** A sink that records what is written; `full` makes writes report backpressure. */
class RecordingSink<T> implements ResponseSink<T> {
  readonly messages: T[] = [];
  ended = false;
  full = false;
  private release: (() => void) | undefined;

  write(message: T): boolean {
    if (this.ended) return false;
    this.messages.push(message);
    return !this.full;
  }

  drained(): Promise<void> {
    if (!this.full) return Promise.resolve();
    return new Promise((resolve) => {
      this.release = resolve;
    });
  }

  drain(): void {
    this.full = false;
    this.release?.();
  }
}

function isStatus(code: number, message: string): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof GrpcError, `expected a GrpcError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.equal(err.message, message);
    return true;
  };
}

describe('Lock service', () => {
  it('locks, makes the next caller wait, and hands over on Unlock', async () => {
    const kv = new FakeKv();
    const svc = lockService({ kv });
    const a = await svc.lock!({ name: enc('job'), lease: kv.addLease(0x10n) }, call());
    assert.equal(str(a.key), 'job/10');
    assert.equal(a.header?.revision, kv.revision);
    assert.equal(a.header?.clusterId, kv.header().clusterId);
    const pb = Promise.resolve(svc.lock!({ name: enc('job'), lease: kv.addLease(0x20n) }, call()));
    assert.equal(await settled(pb), false);
    const released = await svc.unlock!({ key: a.key }, call());
    assert.equal(released.header?.revision, kv.revision);
    assert.equal(str((await pb).key), 'job/20');
  });

  it('withdraws the waiting key when the call ends', async () => {
    const kv = new FakeKv();
    const svc = lockService({ kv });
    await svc.lock!({ name: enc('job'), lease: kv.addLease(0x10n) }, call());
    const ac = new AbortController();
    const pb = Promise.resolve(svc.lock!({ name: enc('job'), lease: kv.addLease(0x20n) }, call(ac.signal)));
    assert.equal(await settled(pb), false);
    assert.deepEqual(kv.keys('job/'), ['job/10', 'job/20']);
    ac.abort();
    await assert.rejects(pb);
    assert.deepEqual(kv.keys('job/'), ['job/10']);
  });

  it('answers UNKNOWN with etcd’s text, as its in-process client makes grpc-go do', async () => {
    const kv = new FakeKv();
    const svc = lockService({ kv });
    await assert.rejects(
      Promise.resolve(svc.lock!({ name: enc('job'), lease: 0x5n }, call())),
      isStatus(Status.UNKNOWN, 'etcdserver: requested lease not found'),
    );
    await assert.rejects(
      Promise.resolve(svc.unlock!({ key: enc('') }, call())),
      isStatus(Status.UNKNOWN, 'etcdserver: key is not provided'),
    );
  });
});

describe('Election service', () => {
  it('campaigns, reports the leader, proclaims and resigns', async () => {
    const kv = new FakeKv();
    const svc = electionService({ kv });
    const lease = kv.addLease(0xbeefn);
    const won = await svc.campaign!({ name: enc('e'), lease, value: enc('v1') }, call());
    assert.deepEqual(won.leader, { name: enc('e'), key: enc('e/beef'), rev: 2, lease });
    assert.equal(won.header?.revision, 2);

    const now = await svc.leader!({ name: enc('e') }, call());
    assert.equal(str(now.kv?.value), 'v1');
    assert.equal(now.kv?.lease, lease);

    const p = await svc.proclaim!({ leader: won.leader, value: enc('v2') }, call());
    assert.equal(p.header?.revision, kv.revision);
    assert.equal(str((await svc.leader!({ name: enc('e') }, call())).kv?.value), 'v2');

    const r = await svc.resign!({ leader: won.leader }, call());
    assert.equal(r.header?.revision, kv.revision);
    await assert.rejects(
      Promise.resolve(svc.leader!({ name: enc('e') }, call())),
      isStatus(Status.UNKNOWN, 'election: no leader'),
    );
  });

  it('refuses a stale leader with UNKNOWN "election: not leader"', async () => {
    const kv = new FakeKv();
    const svc = electionService({ kv });
    const won = await svc.campaign!({ name: enc('e'), lease: kv.addLease(0x1n), value: enc('v') }, call());
    const stale = { ...won.leader!, rev: won.leader!.rev + 5 };
    await assert.rejects(
      Promise.resolve(svc.proclaim!({ leader: stale, value: enc('x') }, call())),
      isStatus(Status.UNKNOWN, 'election: not leader'),
    );
    // Resigning a stale leadership is not an error.
    await svc.resign!({ leader: stale }, call());
    assert.deepEqual(kv.keys('e/'), ['e/1']);
  });

  it('requires the leader field on Proclaim and Resign', async () => {
    const svc = electionService({ kv: new FakeKv() });
    const missing = isStatus(Status.UNKNOWN, '"leader" field must be provided');
    await assert.rejects(Promise.resolve(svc.proclaim!({ value: enc('x') }, call())), missing);
    await assert.rejects(Promise.resolve(svc.resign!({}, call())), missing);
  });

  it('withdraws a waiting candidate when the Campaign call ends', async () => {
    const kv = new FakeKv();
    const svc = electionService({ kv });
    await svc.campaign!({ name: enc('e'), lease: kv.addLease(0x1n), value: enc('a') }, call());
    const ac = new AbortController();
    const pb = Promise.resolve(
      svc.campaign!({ name: enc('e'), lease: kv.addLease(0x2n), value: enc('b') }, call(ac.signal)),
    );
    assert.equal(await settled(pb), false);
    ac.abort();
    await assert.rejects(pb);
    assert.deepEqual(kv.keys('e/'), ['e/1']);
  });

  it('streams each leader change on Observe until the call ends', async () => {
    const kv = new FakeKv();
    const svc = electionService({ kv });
    const ac = new AbortController();
    const sink = new RecordingSink<{ kv?: { value: Buffer; key: Buffer } | undefined }>();
    const done = Promise.resolve(svc.observe!({ name: enc('e') }, sink, call(ac.signal)));
    await flush();
    assert.equal(sink.messages.length, 0);

    const a = await svc.campaign!({ name: enc('e'), lease: kv.addLease(0xan), value: enc('a1') }, call());
    await flush();
    await svc.proclaim!({ leader: a.leader, value: enc('a2') }, call());
    const pb = Promise.resolve(
      svc.campaign!({ name: enc('e'), lease: kv.addLease(0xbn), value: enc('b1') }, call()),
    );
    await flush();
    await svc.resign!({ leader: a.leader }, call());
    await pb;
    await flush();
    assert.deepEqual(
      sink.messages.map((m) => `${str(m.kv?.key)}=${str(m.kv?.value)}`),
      ['e/a=a1', 'e/a=a2', 'e/b=b1'],
    );
    assert.equal(await settled(done), false);
    ac.abort();
    sink.ended = true;
    await done;
    assert.equal(kv.watcherCount, 0);
  });

  it('waits for the transport on Observe before reading on', async () => {
    const kv = new FakeKv();
    const svc = electionService({ kv });
    const ac = new AbortController();
    const sink = new RecordingSink<{ kv?: { value: Buffer } | undefined }>();
    sink.full = true;
    const done = Promise.resolve(svc.observe!({ name: enc('e') }, sink, call(ac.signal)));
    const a = await svc.campaign!({ name: enc('e'), lease: kv.addLease(0xan), value: enc('1') }, call());
    await svc.proclaim!({ leader: a.leader, value: enc('2') }, call());
    await flush();
    assert.deepEqual(
      sink.messages.map((m) => str(m.kv?.value)),
      ['1'],
    );
    sink.drain();
    await flush();
    assert.deepEqual(
      sink.messages.map((m) => str(m.kv?.value)),
      ['1', '2'],
    );
    ac.abort();
    await done;
  });
});

describe('Health service', () => {
  function healthDeps(initial: boolean) {
    const listeners = new Set<() => void>();
    const state = { serving: initial };
    return {
      state,
      listeners,
      set(serving: boolean): void {
        state.serving = serving;
        for (const l of [...listeners]) l();
      },
      deps: {
        serving: () => state.serving,
        onChange: (listener: () => void) => {
          listeners.add(listener);
          return () => listeners.delete(listener);
        },
      },
    };
  }

  it('Check answers SERVING with a leader and NOT_SERVING without', async () => {
    const h = healthDeps(true);
    const svc = healthService(h.deps);
    assert.deepEqual(await svc.check!({ service: '' }, call()), { status: ServingStatus.SERVING });
    h.set(false);
    assert.deepEqual(await svc.check!({ service: '' }, call()), { status: ServingStatus.NOT_SERVING });
  });

  it('Check answers NOT_FOUND "unknown service" for any other name, as grpc-go does', async () => {
    const svc = healthService(healthDeps(true).deps);
    await assert.rejects(
      Promise.resolve(svc.check!({ service: 'etcdserverpb.KV' }, call())),
      isStatus(Status.NOT_FOUND, 'unknown service'),
    );
  });

  it('Watch sends the status, then each change once, until the call ends', async () => {
    const h = healthDeps(false);
    const svc = healthService(h.deps);
    const ac = new AbortController();
    const sink = new RecordingSink<{ status: ServingStatus }>();
    const done = Promise.resolve(svc.watch!({ service: '' }, sink, call(ac.signal)));
    await flush();
    h.set(true);
    await flush();
    h.set(true); // no change: nothing sent
    await flush();
    h.set(false);
    await flush();
    assert.deepEqual(
      sink.messages.map((m) => m.status),
      [ServingStatus.NOT_SERVING, ServingStatus.SERVING, ServingStatus.NOT_SERVING],
    );
    assert.equal(h.listeners.size, 1);
    ac.abort();
    await done;
    assert.equal(h.listeners.size, 0, 'unsubscribed');
  });

  it('Watch sends only the newest status after backpressure', async () => {
    const h = healthDeps(true);
    const svc = healthService(h.deps);
    const ac = new AbortController();
    const sink = new RecordingSink<{ status: ServingStatus }>();
    sink.full = true;
    const done = Promise.resolve(svc.watch!({ service: '' }, sink, call(ac.signal)));
    await flush();
    h.set(false);
    h.set(true);
    h.set(false);
    sink.drain();
    await flush();
    assert.deepEqual(
      sink.messages.map((m) => m.status),
      [ServingStatus.SERVING, ServingStatus.NOT_SERVING],
    );
    ac.abort();
    await done;
  });

  it('Watch of an unknown service sends SERVICE_UNKNOWN and stays open', async () => {
    const h = healthDeps(true);
    const svc = healthService(h.deps);
    const ac = new AbortController();
    const sink = new RecordingSink<{ status: ServingStatus }>();
    const done = Promise.resolve(svc.watch!({ service: 'nope' }, sink, call(ac.signal)));
    await flush();
    h.set(false);
    await flush();
    assert.deepEqual(
      sink.messages.map((m) => m.status),
      [ServingStatus.SERVICE_UNKNOWN],
    );
    assert.equal(await settled(done), false);
    ac.abort();
    await done;
  });
});
