"""Drives one etcd server with the python-etcd3 client and prints what it saw.

usage: python3 etcd3_check.py HOST PORT

Prints one JSON object: step name -> result, in a form that is the same for
two servers that behave the same (interop.test compares the output for the
real etcd with the output for etcd-ts). The keyspace must start empty.
"""

import json
import sys

import etcd3
from google.protobuf import json_format


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


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    client = etcd3.client(host=host, port=port, timeout=10)
    try:
        print(json.dumps(run(client), indent=1, sort_keys=True))
    finally:
        client.close()


if __name__ == "__main__":
    main()
