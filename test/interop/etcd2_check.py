#!/usr/bin/python3
# Drives a v2 keys API server (started with --enable-v2) through Debian's
# python3-etcd (a v2 client written against the real etcd) and prints one JSON
# report. Indexes differ from server to server only by a constant offset (the
# v2 store's index counts the member's own publish entries), so the report
# gives them relative to the first write.
import json
import sys
import threading

import etcd

host, port = sys.argv[1], int(sys.argv[2])
c = etcd.Client(host=host, port=port, read_timeout=10, allow_reconnect=False)
report = {}
base = None


def rel(index):
    return None if index is None else index - base


def node(r):
    out = {"key": r.key, "value": r.value, "dir": r.dir}
    if r.ttl is not None:
        out["ttl_positive"] = r.ttl > 0
    out["modified"] = rel(r.modifiedIndex)
    out["created"] = rel(r.createdIndex)
    return out


def error_of(f):
    try:
        f()
        return None
    except etcd.EtcdException as e:
        return type(e).__name__


first = c.write("/k1", "v1")
base = first.modifiedIndex
report["write"] = {"action": first.action, "node": node(first)}
report["read"] = node(c.read("/k1"))
report["update"] = node(c.write("/k1", "v2"))
report["read_missing"] = error_of(lambda: c.read("/missing"))
report["create_existing"] = error_of(lambda: c.write("/k1", "x", prevExist=False))
report["update_missing"] = error_of(lambda: c.write("/nothere", "x", prevExist=True))
report["cas_wrong_value"] = error_of(lambda: c.test_and_set("/k1", "v3", "wrong"))
report["cas_ok"] = node(c.test_and_set("/k1", "v3", "v2"))
idx = c.read("/k1").modifiedIndex
report["cas_wrong_index"] = error_of(lambda: c.write("/k1", "v4", prevIndex=idx + 100))
report["cas_index_ok"] = node(c.write("/k1", "v4", prevIndex=idx))
report["ttl"] = node(c.write("/ttl", "t", ttl=60))
c.write("/dir/a", "1")
c.write("/dir/b", "2")
c.write("/dir/sub/c", "3")
listing = c.read("/dir", recursive=True, sorted=True)
report["recursive"] = sorted(n.key for n in listing.leaves)
report["dir_flag"] = c.read("/dir").dir
report["mkdir"] = node(c.write("/emptydir", None, dir=True))
report["delete_dir_without_recursive"] = error_of(lambda: c.delete("/dir"))
q1 = c.write("/queue", "first", append=True)
q2 = c.write("/queue", "second", append=True)
report["append_in_order"] = q1.key < q2.key and q1.key.startswith("/queue/")
report["queue"] = [n.value for n in c.read("/queue", sorted=True).leaves]
report["delete"] = c.delete("/k1").action
report["delete_missing"] = error_of(lambda: c.delete("/k1"))
report["delete_recursive"] = c.delete("/dir", recursive=True).action
report["after_recursive_delete"] = error_of(lambda: c.read("/dir/a"))
report["delete_empty_dir"] = c.delete("/emptydir", dir=True).action

# Watch: one waiting for the next change, one replaying from an index.
seen = {}


def waiter():
    r = c.watch("/w", timeout=10)
    seen["next"] = {"action": r.action, "value": r.value}


t = threading.Thread(target=waiter)
t.start()
threading.Event().wait(0.5)
w1 = c.write("/w", "changed")
t.join()
report["watch_next"] = seen.get("next")
c.write("/w", "again")
r = c.watch("/w", index=w1.modifiedIndex, timeout=10)
report["watch_from_index"] = {"value": r.value, "modified": rel(r.modifiedIndex)}
report["quorum_read"] = c.read("/w", quorum=True).value

report["machines"] = len(c.machines)
report["members"] = sorted(m["name"] for m in c.members.values())
report["leader_name"] = c.leader["name"]
report["version_is_3_4"] = c.version.startswith("3.4.")
report["store_stats_has_sets"] = "setsSuccess" in c.store_stats
print(json.dumps(report, sort_keys=True))
