"""python3-etcd3 with credentials against one endpoint; prints one JSON report.

The server must have auth enabled with the given user allowed to read and
write the /a/ prefix, and a key /secret (the test sets that up). grpc-python
sends credentials only over TLS, so the server is reached with TLS.
Run: etcd3_auth_check.py HOST PORT USER PASSWORD CA CERT KEY
"""
import json
import sys

import etcd3
import grpc

host, port, user, password, ca, cert, key = sys.argv[1:8]
port = int(port)
tls = {"ca_cert": ca, "cert_cert": cert, "cert_key": key}
report = {}


def outcome(fn):
    try:
        return {"ok": fn()}
    except grpc.RpcError as e:  # the library lets most gRPC failures through
        return {"code": e.code().name, "details": e.details()}
    except Exception as e:  # and wraps a few in its own exceptions
        return {"exception": type(e).__name__, "text": str(e)}


def value(got):
    v, _meta = got
    return None if v is None else v.decode()


report["bad_password"] = outcome(lambda: etcd3.client(host=host, port=port, user=user, password="nope", **tls).get("/a/x"))
alice = etcd3.client(host=host, port=port, user=user, password=password, **tls)
report["put_allowed"] = outcome(lambda: alice.put("/a/x", "1") is not None)
report["get_allowed"] = outcome(lambda: value(alice.get("/a/x")))
report["prefix_allowed"] = outcome(lambda: sorted(m.key.decode() for _v, m in alice.get_prefix("/a/")))
report["get_denied"] = outcome(lambda: value(alice.get("/secret")))
report["put_denied"] = outcome(lambda: alice.put("/secret", "x") is not None)
report["txn_denied_branch"] = outcome(
    lambda: alice.transaction(compare=[alice.transactions.version("/a/x") > 0], success=[alice.transactions.put("/a/y", "2")], failure=[alice.transactions.put("/secret", "3")])[0]
)
report["txn_allowed"] = outcome(
    lambda: alice.transaction(compare=[alice.transactions.version("/a/x") > 0], success=[alice.transactions.put("/a/y", "2")], failure=[])[0]
)
lease = alice.lease(60)
report["lease_put"] = outcome(lambda: alice.put("/a/l", "v", lease=lease) is not None)
report["lease_revoke"] = outcome(lambda: lease.revoke())
print(json.dumps(report, sort_keys=True))
