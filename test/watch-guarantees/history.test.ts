// The reference history builder: acknowledged writes at their revisions,
// failed writes accepted only where they reproduce the store, and the KV
// cross-checks. Pure; the "server" is a list of stores by revision.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { History, type WriteRecord } from './history.js';
import { applyMutations, type Mutation, type Store } from './model.js';

const put = (key: string, value: string): Mutation => ({ kind: 'put', key, value });
const del = (key: string): Mutation => ({ kind: 'del', range: { key, end: '' } });

let nextId = 0;
function write(
  muts: Mutation[],
  outcome: 'acked' | 'failed',
  revision?: number,
  deleted?: number[],
): WriteRecord {
  const id = nextId++;
  const w: WriteRecord = {
    id,
    writer: 0,
    kind: muts.length > 1 ? 'txn' : muts[0]!.kind === 'put' ? 'put' : 'delete',
    muts,
    sentAt: id * 10,
    doneAt: id * 10 + 5,
    outcome,
  };
  if (revision !== undefined) w.revision = revision;
  if (outcome === 'acked') w.deleted = deleted ?? muts.map(() => 0);
  return w;
}

/** The stores a server that applied `writes` in this order would report, by revision. */
function server(writes: Mutation[][]): (rev: number) => Promise<Store> {
  const stores: Store[] = [new Map(), new Map()];
  const s: Store = new Map();
  writes.forEach((m, i) => {
    applyMutations(s, m, i + 2, true);
    stores[i + 2] = new Map(s);
  });
  return async (rev) => new Map(stores[rev]!);
}

test('acknowledged writes plus a failed write that was applied', async () => {
  const applied = [[put('/w/a', '1')], [put('/w/b', '1'), del('/w/a')], [put('/w/a', '2')]];
  const h = new History();
  h.record(write(applied[0]!, 'acked', 2));
  h.record(write([put('/w/z', 'never applied')], 'failed'));
  h.record(write(applied[1]!, 'failed'));
  h.record(write(applied[2]!, 'acked', 4));
  assert.equal(h.contiguous(), 2);
  await h.resolve(4, server(applied));
  assert.deepEqual(h.problems, []);
  assert.deepEqual(h.recovered, [3]);
  assert.deepEqual(
    h.events[3]!.map((e) => `${e.type} ${e.kv.key} ${e.prev?.value ?? '-'}`),
    ['PUT /w/b -', 'DELETE /w/a 1'],
  );
  assert.equal(h.state().get('/w/a')?.createRevision, 4);
  assert.equal(h.contiguous(), 4);
});

test('a revision nobody accounts for is a problem', async () => {
  const applied = [[put('/w/a', '1')], [put('/w/b', 'ghost')]];
  const h = new History();
  h.record(write(applied[0]!, 'acked', 2));
  await h.resolve(3, server(applied));
  assert.match(h.problems.map((p) => p.detail).join('\n'), /revision 3: no acknowledged write/);
});

test('KV cross-checks: delete counts, no-op deletes, real-time order', async () => {
  const applied = [[put('/w/a', '1')], [del('/w/a')], [put('/w/b', '1')]];
  const h = new History();
  h.record(write(applied[0]!, 'acked', 2));
  h.record(write(applied[1]!, 'acked', 3, [2])); // reports 2 deleted, the model deletes 1
  h.record(write([del('/w/b')], 'acked', 3, [0])); // "nothing deleted" at 3: right, b does not exist yet
  h.record(write([del('/w/a')], 'acked', 2, [0])); // "nothing deleted" at 2: wrong, a existed
  await h.resolve(3, server(applied.slice(0, 2)));
  const late = write(applied[2]!, 'acked', 4);
  late.sentAt = 1; // sent before the write at 2 was acknowledged: fine
  h.record(late);
  await h.resolve(4, server(applied));
  h.checkRealTime();
  const details = h.problems.map((p) => p.detail).join('\n');
  assert.match(details, /reported deleting \[2\] keys, the model deletes \[1\]/);
  assert.match(details, /reported deleting nothing at revision 2/);
  assert.doesNotMatch(details, /revision 3, but the store/);
  assert.doesNotMatch(details, /not above/);
  // A write sent after the one at 4 was acknowledged cannot be at 3.
  const h2 = new History();
  const a = write([put('/w/a', '1')], 'acked', 3);
  const b = write([put('/w/b', '1')], 'acked', 2);
  b.sentAt = a.doneAt + 1;
  h2.record(a);
  h2.record(b);
  await h2.resolve(3, server([[put('/w/b', '1')], [put('/w/a', '1')]]));
  h2.checkRealTime();
  assert.match(h2.problems.map((p) => p.detail).join('\n'), /got revision 2, not above 3/);
});
