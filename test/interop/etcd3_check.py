"""Drives one etcd server with the python-etcd3 client and prints what it saw.

usage: python3 etcd3_check.py HOST PORT

Prints one JSON object: step name -> result, in a form that is the same for
two servers that behave the same (interop.test compares the output for the
real etcd with the output for etcd-ts). The keyspace must start empty.

The KV steps come first; then watch, lease and lock steps (their keys live
under /pw/, /pl/, /px/ and /locks/). Server-chosen lease ids are never
reported as such (only whether they match where they must); a client-chosen
lease id is. Timings are reported as booleans against generous bounds.
"""

import json
import queue
import sys
import threading
import time

import etcd3
import grpc
from etcd3 import events as etcd3_events
from etcd3 import exceptions as etcd3_exceptions
from google.protobuf import json_format

# How long to wait for a watch event or a lock before calling it missing.
WAIT_S = 10


def text(b):
    return None if b is None else b.decode("utf-8")


def meta(m):
    if m is None:
        return None
    return {
        "key": text(m.key),
        "create_revision": m.create_revision,
        "mod_revision": m.mod_revision,
        "version": m.version,
        "lease_id": m.lease_id,
    }


def pair(value_and_meta):
    value, m = value_and_meta
    return {"value": text(value), "meta": meta(m)}


def header(h):
    return {
        "cluster_id": h.cluster_id,
        "member_id": h.member_id,
        "revision": h.revision,
        "raft_term": h.raft_term,
    }


def txn_responses(responses):
    """Per op: a get's list of pairs, or the whole put/delete ResponseOp message."""
    out = []
    for r in responses:
        if isinstance(r, list):
            out.append([pair(p) for p in r])
        else:
            out.append(json_format.MessageToDict(r, preserving_proto_field_name=True))
    return out


def run(client):
    res = {}
    tx = client.transactions

    res["put_k1"] = header(client.put("/k1", "v1").header)
    client.put("/k2", "v2")
    client.put("/k1", "v1.1")
    client.put("/dir/a", "a")
    client.put("/dir/b", "b")
    client.put("/dir/c", "c")
    client.put("other", "o")
    prev = client.put("/k2", "v2.1", prev_kv=True)
    res["put_prev_kv"] = {
        "revision": prev.header.revision,
        "prev_key": text(prev.prev_kv.key),
        "prev_value": text(prev.prev_kv.value),
        "prev_mod_revision": prev.prev_kv.mod_revision,
    }

    res["get_k1"] = pair(client.get("/k1"))
    res["get_missing"] = pair(client.get("/missing"))
    res["get_prefix"] = [pair(p) for p in client.get_prefix("/dir/")]
    res["get_prefix_desc_by_mod"] = [
        pair(p) for p in client.get_prefix("/", sort_order="descend", sort_target="mod")
    ]
    res["get_prefix_keys_only"] = [
        meta(m) for _, m in client.get_prefix("/dir/", keys_only=True)
    ]
    res["get_range"] = [pair(p) for p in client.get_range("/dir/a", "/dir/c")]
    res["get_all"] = [pair(p) for p in client.get_all()]
    res["get_all_by_value_desc"] = [
        pair(p) for p in client.get_all(sort_order="descend", sort_target="value")
    ]

    res["delete_one"] = client.delete("/dir/a")
    res["delete_missing"] = client.delete("/dir/a")
    deleted = client.delete("/dir/b", prev_kv=True, return_response=True)
    res["delete_prev_kv"] = {
        "deleted": deleted.deleted,
        "prev": [{"key": text(kv.key), "value": text(kv.value)} for kv in deleted.prev_kvs],
    }
    res["delete_prefix"] = client.delete_prefix("/dir/").deleted

    res["replace_ok"] = client.replace("/k1", "v1.1", "v1.2")
    res["replace_wrong_value"] = client.replace("/k1", "nope", "v1.3")
    res["after_replace"] = pair(client.get("/k1"))

    ok, responses = client.transaction(
        compare=[tx.value("/k1") == "v1.2", tx.version("/k1") == 3, tx.mod("/k2") > 1],
        success=[tx.put("/t", "yes"), tx.get("/k1"), tx.delete("/k2")],
        failure=[tx.put("/t", "no")],
    )
    res["txn_success"] = {"succeeded": ok, "responses": txn_responses(responses)}

    ok, responses = client.transaction(
        compare=[tx.value("/k1") != "v1.2"],
        success=[tx.put("/t", "yes-again")],
        failure=[tx.put("/t", "no"), tx.get("/t"), tx.get("/nothing")],
    )
    res["txn_failure_on_value"] = {"succeeded": ok, "responses": txn_responses(responses)}

    ok, responses = client.transaction(
        compare=[tx.version("/missing") == 0, tx.create("/t") > 0, tx.mod("/t") < 1000],
        success=[tx.get("/t")],
        failure=[],
    )
    res["txn_version_create_mod"] = {"succeeded": ok, "responses": txn_responses(responses)}

    ok, responses = client.transaction(
        compare=[tx.mod("/k1") < 2],
        success=[],
        failure=[tx.get("/k1")],
    )
    res["txn_failure_on_mod"] = {"succeeded": ok, "responses": txn_responses(responses)}

    status = client.status()
    res["status"] = {
        "version": status.version,
        "leader_name": status.leader.name,
        "leader_id": status.leader.id,
        "raft_term": status.raft_term,
        "db_size_positive": status.db_size > 0,
        "raft_index_positive": status.raft_index > 0,
    }
    res["members"] = [
        {
            "id": m.id,
            "name": m.name,
            "peer_urls": list(m.peer_urls),
            "client_urls": list(m.client_urls),
        }
        for m in client.members
    ]
    res["final_all"] = [pair(p) for p in client.get_all()]
    return res


def rpc_error(f):
    """Runs f; reports the gRPC status (or the client's exception class) it failed with."""
    try:
        f()
    except grpc.RpcError as err:
        return {"code": err.code().name, "details": err.details()}
    except etcd3_exceptions.Etcd3Exception as err:
        return {"exception": type(err).__name__}
    return {"ok": True}


def event(ev):
    out = {
        "type": "PUT" if isinstance(ev, etcd3_events.PutEvent) else "DELETE",
        "key": text(ev.key),
        "value": text(ev.value),
        "create_revision": ev.create_revision,
        "mod_revision": ev.mod_revision,
        "version": ev.version,
        "has_lease": ev.lease != 0,
    }
    if ev._event.HasField("prev_kv"):
        out["prev_value"] = text(ev.prev_value)
    return out


class Collector(object):
    """A watch callback that queues what it is given (responses or errors)."""

    def __init__(self):
        self.q = queue.Queue()

    def __call__(self, response_or_err):
        self.q.put(response_or_err)

    def take(self, n_events):
        """The next responses until n_events events have arrived: a list of event lists."""
        got, n = [], 0
        while n < n_events:
            r = self.q.get(timeout=WAIT_S)
            if isinstance(r, Exception):
                got.append({"error": type(r).__name__,
                            "compacted_revision": getattr(r, "compacted_revision", None)})
                return got
            got.append({"header_revision": r.header.revision,
                        "events": [event(e) for e in r.events]})
            n += len(r.events)
        return got

    def take_error(self):
        r = self.q.get(timeout=WAIT_S)
        if isinstance(r, Exception):
            return {"error": type(r).__name__,
                    "compacted_revision": getattr(r, "compacted_revision", None)}
        return {"unexpected_response_events": [event(e) for e in r.events]}

    def quiet(self, seconds):
        """True if nothing more arrives within `seconds`."""
        try:
            r = self.q.get(timeout=seconds)
        except queue.Empty:
            return True
        return {"unexpected": str(r)}


def run_watch(client):
    res = {}
    start = client.put("/pw/start", "s").header.revision + 1

    # A prefix watch and a key watch with previous values, both created before the writes
    # (add_watch_callback returns once the server has answered "created").
    prefix = Collector()
    prefix_id = client.add_watch_prefix_callback("/pw/", prefix)
    key = Collector()
    key_id = client.add_watch_callback("/pw/a", key, prev_kv=True)
    client.put("/pw/a", "1")
    client.put("/pw/b", "2")
    client.put("/pw/a", "3")
    client.put("/elsewhere", "not watched")
    client.delete("/pw/b")
    client.transaction(
        compare=[],
        success=[client.transactions.put("/pw/a", "t"), client.transactions.put("/pw/c", "u"),
                 client.transactions.delete("/pw/start")],
        failure=[],
    )
    client.delete_prefix("/pw/")
    res["watch_prefix"] = prefix.take(9)
    res["watch_key_prev_kv"] = key.take(4)

    # Cancel: nothing more arrives on the canceled watch, the other one still works.
    client.cancel_watch(prefix_id)
    client.put("/pw/a", "after cancel")
    res["watch_after_cancel_other"] = key.take(1)
    res["watch_after_cancel_quiet"] = prefix.quiet(0.5)
    client.cancel_watch(key_id)

    # The library's iterator form, with its cancel function.
    events_iter, cancel = client.watch_prefix("/pw/it/")
    client.put("/pw/it/x", "1")
    client.put("/pw/it/y", "2")
    timer = threading.Timer(WAIT_S, cancel)
    timer.start()
    seen = []
    for ev in events_iter:
        seen.append(event(ev))
        if len(seen) == 2:
            break
    cancel()
    timer.cancel()
    res["watch_iterator"] = seen

    # Replay from history: the catch-up events arrive batched.
    replay = Collector()
    replay_id = client.add_watch_prefix_callback("/pw/", replay, start_revision=start)
    res["watch_replay"] = replay.take(12)
    client.cancel_watch(replay_id)
    one = Collector()
    one_id = client.add_watch_callback("/pw/a", one, start_revision=start + 2, prev_kv=True)
    res["watch_replay_key_prev_kv"] = one.take(4)
    client.cancel_watch(one_id)

    try:
        client.watch_once("/pw/never", timeout=0.5)
        res["watch_once_timeout"] = "no timeout"
    except etcd3_exceptions.WatchTimedOut:
        res["watch_once_timeout"] = "WatchTimedOut"

    # A compacted start revision: created, then canceled with the compaction revision.
    client.compact(start + 3)
    compacted = Collector()
    compacted_id = client.add_watch_prefix_callback("/pw/", compacted, start_revision=start)
    res["watch_compacted"] = compacted.take_error()
    client.cancel_watch(compacted_id)
    at = Collector()
    at_id = client.add_watch_prefix_callback("/pw/", at, start_revision=start + 3)
    res["watch_at_compaction"] = at.take(9)
    client.cancel_watch(at_id)
    return res


def wait_gone(client, key, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if client.get(key)[0] is None:
            return True
        time.sleep(0.05)
    return False


def run_lease(client):
    res = {}
    lease = client.lease(30)
    res["lease_grant"] = {"ttl": lease.ttl, "id_nonzero": lease.id != 0}
    client.put("/pl/a", "1", lease=lease)
    client.put("/pl/b", "2", lease=lease.id)
    client.put("/pl/c", "3")
    _, meta_a = client.get("/pl/a")
    _, meta_c = client.get("/pl/c")
    res["lease_on_keys"] = {"a": meta_a.lease_id == lease.id, "c": meta_c.lease_id}
    info = client.get_lease_info(lease.id)
    res["lease_info"] = {
        "same_id": info.ID == lease.id,
        "granted_ttl": info.grantedTTL,
        "ttl_in_range": 25 <= info.TTL < 30,
        "keys": sorted(text(k) for k in info.keys),
    }
    res["lease_properties"] = {
        "granted_ttl": lease.granted_ttl,
        "remaining_ttl_in_range": 25 <= lease.remaining_ttl < 30,
        "keys": sorted(text(k) for k in lease.keys),
    }
    refreshed = lease.refresh()
    res["lease_refresh"] = [{"same_id": r.ID == lease.id, "ttl": r.TTL} for r in refreshed]

    fixed = client.lease(20, lease_id=0x1234ABCD)
    res["lease_fixed_id"] = {"id": fixed.id, "ttl": fixed.ttl}
    res["lease_duplicate_id"] = rpc_error(lambda: client.lease(20, lease_id=0x1234ABCD))
    res["lease_ttl_too_large"] = rpc_error(lambda: client.lease(9000000001))
    res["lease_fixed_id_info"] = {"granted_ttl": fixed.granted_ttl, "keys": list(fixed.keys)}
    client.revoke_lease(0x1234ABCD)

    minimum = client.lease(1)
    res["lease_ttl_1"] = {"ttl": minimum.ttl}
    client.put("/pl/expiring", "x", lease=minimum)
    began = time.time()
    res["lease_expiry"] = {
        "key_deleted": wait_gone(client, "/pl/expiring", 15),
        "not_before_1s": time.time() - began >= 1,
    }
    gone = client.get_lease_info(minimum.id)
    res["lease_expired_info"] = {"ttl": gone.TTL, "granted_ttl": gone.grantedTTL, "keys": list(gone.keys)}

    lease.revoke()
    res["lease_revoked_keys"] = [pair(p) for p in client.get_prefix("/pl/")]
    res["lease_revoked_info"] = {"ttl": lease.remaining_ttl, "granted_ttl": lease.granted_ttl}
    res["lease_revoke_again"] = rpc_error(lease.revoke)
    res["lease_refresh_revoked"] = [{"same_id": r.ID == lease.id, "ttl": r.TTL} for r in lease.refresh()]
    res["lease_put_revoked"] = rpc_error(lambda: client.put("/pl/x", "v", lease=lease))
    res["lease_unknown_info"] = {"ttl": client.get_lease_info(0x7EADBEEF).TTL}
    client.delete_prefix("/pl/")
    return res


def acquire(client, lock, timeout):
    """Lock.acquire(timeout) as python-etcd3 0.12 does it: try the create-if-absent
    transaction, else wait for a change of the lock key (a watch), then retry.

    The library's own waiting path cannot run here: Debian's python3-etcd3 0.12
    passes a two-argument wait function to tenacity, and Debian's tenacity 8
    calls it with one (TypeError on any contended acquire). acquire(timeout=0)
    stops before tenacity's wait, so it is the library's single attempt.
    """
    deadline = time.time() + timeout
    while True:
        if lock.acquire(timeout=0):
            return True
        remaining = deadline - time.time()
        if remaining <= 0:
            return False
        try:
            client.watch_once(lock.key, timeout=remaining)
        except etcd3_exceptions.WatchTimedOut:
            pass


def run_lock(client):
    res = {}
    first = client.lock("pylock", ttl=20)
    res["lock_acquire"] = acquire(client, first, WAIT_S)
    res["lock_is_acquired"] = first.is_acquired()
    _, meta = client.get("/locks/pylock")
    res["lock_key"] = {"key": text(meta.key), "lease_is_the_locks": meta.lease_id == first.lease.id,
                       "version": meta.version}

    second = client.lock("pylock", ttl=20)
    began = time.time()
    res["lock_second_times_out"] = {"acquired": acquire(client, second, 1),
                                    "waited_1s": time.time() - began >= 0.9}
    res["lock_second_is_acquired"] = second.is_acquired()

    # The second waits (on a watch of the lock key) while the first holds the lock.
    times = {}

    def wait_for_lock():
        times["acquired"] = acquire(client, second, WAIT_S)
        times["at"] = time.time()

    waiter = threading.Thread(target=wait_for_lock)
    waiter.start()
    time.sleep(0.5)
    times["release_started"] = time.time()
    res["lock_release"] = first.release()
    waiter.join(WAIT_S + 5)
    res["lock_second_acquires"] = {
        "acquired": times.get("acquired"),
        "after_release": times.get("at", 0) >= times["release_started"],
    }
    res["lock_owners"] = {"first": first.is_acquired(), "second": second.is_acquired()}
    res["lock_refresh"] = [r.TTL for r in second.refresh()]
    res["lock_release_second"] = second.release()
    res["lock_release_again"] = second.release()
    res["lock_after_release"] = pair(client.get("/locks/pylock"))

    # A lock whose holder goes away is freed by its lease's expiry.
    doomed = client.lock("pyexpire", ttl=2)
    res["lock_short_acquire"] = acquire(client, doomed, WAIT_S)
    heir = client.lock("pyexpire", ttl=20)
    began = time.time()
    res["lock_after_expiry"] = {"acquired": acquire(client, heir, 15), "not_before_1s": time.time() - began >= 1}
    heir.release()

    with client.lock("pywith", ttl=10) as held:
        res["lock_context_manager"] = held.is_acquired()
    res["lock_context_manager_after"] = pair(client.get("/locks/pywith"))
    return res


def quiet_watch_thread_exit(args):
    """The library's watch thread retries forever; once the client is closed its retry
    fails ("Cannot invoke RPC on closed channel"). That is the end, not an error."""
    if args.thread is not None and args.thread.name.startswith("etcd3_watch_") and CLOSED.is_set():
        return
    threading.__excepthook__(args)


CLOSED = threading.Event()


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    threading.excepthook = quiet_watch_thread_exit
    client = etcd3.client(host=host, port=port, timeout=10)
    try:
        res = run(client)
        res.update(run_watch(client))
        res.update(run_lease(client))
        res.update(run_lock(client))
        print(json.dumps(res, indent=1, sort_keys=True))
    finally:
        CLOSED.set()
        client.close()


if __name__ == "__main__":
    main()
