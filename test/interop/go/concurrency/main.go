// Command concurrency drives one etcd v3 server through etcd 3.4's own Go
// client (go.etcd.io/etcd/clientv3, clientv3/concurrency and the v3lock and
// v3election gRPC services) for test/interop/go-clientv3.test.ts, which runs
// it against the real etcd 3.4 and against etcd-ts and compares.
//
// Build offline in GOPATH mode against Debian's golang-etcd-server-dev:
//
//	GO111MODULE=off GOFLAGS= GOPATH=/usr/share/gocode go build -o concurrency .
//
// Usage (every mode prints lines on stdout and exits 0 on success; a failure
// prints "error: ..." on stderr and exits 1):
//
//	concurrency lock ENDPOINT NAME HOLD_MS         concurrency.Mutex: waiting/acquired/key/owner/releasing/released <unix-ms>
//	concurrency elect ENDPOINT NAME VALUE HOLD_MS  concurrency.Election: campaigning/leader/observed/resigning/resigned
//	concurrency observe ENDPOINT NAME N            concurrency.Election.Observe: the first N leader values, as JSON lines
//	concurrency watch ENDPOINT KEY N [prefix] [prev-kv] [rev=R]
//	                                              a created line, then the first N events, as JSON lines
//	concurrency lease ENDPOINT                     grant, keep-alive, time-to-live, leases, revoke, ...: JSON lines
//	concurrency lockrpc ENDPOINT NAME HOLD_MS      the v3lock Lock service: waiting/acquired/key/releasing/released
//	concurrency electrpc ENDPOINT NAME VALUE HOLD_MS
//	                                              the v3election Election service: campaigning/leader/observed/...
//	concurrency rpcerrors ENDPOINT                 error codes and texts of the Lock and Election services: JSON lines
//
// Server-chosen lease ids are never printed as such: a lease-derived key is
// printed as its prefix plus "<lease>" and a flag saying whether the suffix
// was the session's lease in hex, so the output of two servers compares.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.etcd.io/etcd/clientv3"
	"go.etcd.io/etcd/clientv3/concurrency"
	"go.etcd.io/etcd/etcdserver/api/v3election/v3electionpb"
	"go.etcd.io/etcd/etcdserver/api/v3lock/v3lockpb"
	pb "go.etcd.io/etcd/etcdserver/etcdserverpb"
	"go.etcd.io/etcd/pkg/logutil"
	"go.uber.org/zap"
	"google.golang.org/grpc/status"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: concurrency lock|elect|observe|watch|lease|lockrpc|electrpc|rpcerrors ENDPOINT ...")
		os.Exit(2)
	}
	mode, endpoint, args := os.Args[1], os.Args[2], os.Args[3:]
	c := newClient(endpoint)
	defer c.Close()
	switch mode {
	case "lock":
		need(args, 2)
		lockMode(c, args[0], millis(args[1]))
	case "elect":
		need(args, 3)
		electMode(c, args[0], args[1], millis(args[2]))
	case "observe":
		need(args, 2)
		observeMode(c, args[0], count(args[1]))
	case "watch":
		need(args, 2)
		watchMode(c, args[0], count(args[1]), args[2:])
	case "lease":
		leaseMode(c)
	case "lockrpc":
		need(args, 2)
		lockRPCMode(c, args[0], millis(args[1]))
	case "electrpc":
		need(args, 3)
		electRPCMode(c, args[0], args[1], millis(args[2]))
	case "rpcerrors":
		rpcErrorsMode(c)
	default:
		fail("unknown mode %q", mode)
	}
}

func newClient(endpoint string) *clientv3.Client {
	lcfg := logutil.DefaultZapLoggerConfig
	lcfg.Level = zap.NewAtomicLevelAt(zap.ErrorLevel)
	c, err := clientv3.New(clientv3.Config{
		Endpoints:   []string{endpoint},
		DialTimeout: 5 * time.Second,
		LogConfig:   &lcfg,
	})
	if err != nil {
		fail("connecting to %s: %v", endpoint, err)
	}
	return c
}

func need(args []string, n int) {
	if len(args) < n {
		fail("need %d arguments after the endpoint, got %d", n, len(args))
	}
}

func millis(s string) time.Duration {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		fail("bad milliseconds %q", s)
	}
	return time.Duration(n) * time.Millisecond
}

func count(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		fail("bad count %q", s)
	}
	return n
}

func fail(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "error: "+format+"\n", a...)
	os.Exit(1)
}

func nowMs() int64 { return time.Now().UnixNano() / int64(time.Millisecond) }

// say prints one line: a word and the current unix time in milliseconds.
func say(word string) { fmt.Printf("%s %d\n", word, nowMs()) }

// emit prints one JSON object on a line (map keys come out sorted).
func emit(m map[string]interface{}) {
	b, err := json.Marshal(m)
	if err != nil {
		fail("json: %v", err)
	}
	fmt.Println(string(b))
}

func ctxFor(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

// leaseKey describes a key made of a prefix and a lease id in hex (%x, as
// concurrency.Mutex and Election make them) without printing the id.
func leaseKey(key, prefix string, lease clientv3.LeaseID) string {
	want := fmt.Sprintf("%s%x", prefix, int64(lease))
	if key == want {
		return prefix + "<lease>"
	}
	return "unexpected:" + key
}

func errInfo(err error) map[string]interface{} {
	if err == nil {
		return map[string]interface{}{"ok": true}
	}
	st, _ := status.FromError(err)
	return map[string]interface{}{"code": st.Code().String(), "message": st.Message(), "error": err.Error()}
}

// ---------------------------------------------------------------- concurrency.Mutex

func lockMode(c *clientv3.Client, name string, hold time.Duration) {
	s, err := concurrency.NewSession(c, concurrency.WithTTL(30))
	if err != nil {
		fail("session: %v", err)
	}
	defer s.Close()
	m := concurrency.NewMutex(s, name)
	ctx, cancel := ctxFor(60 * time.Second)
	defer cancel()
	say("waiting")
	if err := m.Lock(ctx); err != nil {
		fail("lock: %v", err)
	}
	say("acquired")
	fmt.Printf("key %s\n", leaseKey(m.Key(), name+"/", s.Lease()))
	// The lock's own ownership check, as a guarded transaction would use it.
	owner, err := c.Txn(ctx).If(m.IsOwner()).Commit()
	if err != nil {
		fail("owner txn: %v", err)
	}
	fmt.Printf("owner %v\n", owner.Succeeded)
	time.Sleep(hold)
	say("releasing")
	if err := m.Unlock(ctx); err != nil {
		fail("unlock: %v", err)
	}
	say("released")
}

// ---------------------------------------------------------------- concurrency.Election

func electMode(c *clientv3.Client, name, value string, hold time.Duration) {
	s, err := concurrency.NewSession(c, concurrency.WithTTL(30))
	if err != nil {
		fail("session: %v", err)
	}
	defer s.Close()
	e := concurrency.NewElection(s, name)
	ctx, cancel := ctxFor(60 * time.Second)
	defer cancel()
	say("campaigning")
	if err := e.Campaign(ctx, value); err != nil {
		fail("campaign: %v", err)
	}
	say("leader")
	fmt.Printf("key %s\n", leaseKey(e.Key(), name+"/", s.Lease()))
	l, err := e.Leader(ctx)
	if err != nil {
		fail("leader: %v", err)
	}
	fmt.Printf("observed %s\n", l.Kvs[0].Value)
	if err := e.Proclaim(ctx, value+"+"); err != nil {
		fail("proclaim: %v", err)
	}
	if l, err = e.Leader(ctx); err != nil {
		fail("leader: %v", err)
	}
	fmt.Printf("proclaimed %s\n", l.Kvs[0].Value)
	time.Sleep(hold)
	say("resigning")
	if err := e.Resign(ctx); err != nil {
		fail("resign: %v", err)
	}
	say("resigned")
}

func observeMode(c *clientv3.Client, name string, n int) {
	s, err := concurrency.NewSession(c, concurrency.WithTTL(30))
	if err != nil {
		fail("session: %v", err)
	}
	defer s.Close()
	e := concurrency.NewElection(s, name)
	ctx, cancel := ctxFor(60 * time.Second)
	defer cancel()
	emit(map[string]interface{}{"observing": true})
	seen := 0
	for resp := range e.Observe(ctx) {
		kv := resp.Kvs[0]
		emit(map[string]interface{}{
			"value":      string(kv.Value),
			"key_prefix": strings.HasPrefix(string(kv.Key), name+"/"),
			"has_lease":  kv.Lease != 0,
		})
		if seen++; seen == n {
			return
		}
	}
	fail("observe ended after %d of %d leaders: %v", seen, n, ctx.Err())
}

// ---------------------------------------------------------------- watch

func watchMode(c *clientv3.Client, key string, n int, flags []string) {
	opts := []clientv3.OpOption{clientv3.WithCreatedNotify()}
	for _, f := range flags {
		switch {
		case f == "prefix":
			opts = append(opts, clientv3.WithPrefix())
		case f == "prev-kv":
			opts = append(opts, clientv3.WithPrevKV())
		case strings.HasPrefix(f, "rev="):
			r, err := strconv.ParseInt(strings.TrimPrefix(f, "rev="), 10, 64)
			if err != nil {
				fail("bad %q", f)
			}
			opts = append(opts, clientv3.WithRev(r))
		default:
			fail("unknown watch flag %q", f)
		}
	}
	ctx, cancel := ctxFor(60 * time.Second)
	defer cancel()
	seen := 0
	for resp := range c.Watch(ctx, key, opts...) {
		if resp.Created {
			emit(map[string]interface{}{"created": true, "header_revision": resp.Header.Revision})
			continue
		}
		if err := resp.Err(); err != nil {
			emit(map[string]interface{}{
				"error":            err.Error(),
				"canceled":         resp.Canceled,
				"compact_revision": resp.CompactRevision,
				"header_revision":  resp.Header.Revision,
			})
			os.Exit(3)
		}
		for _, ev := range resp.Events {
			m := map[string]interface{}{
				"type":            ev.Type.String(),
				"key":             string(ev.Kv.Key),
				"value":           string(ev.Kv.Value),
				"create_revision": ev.Kv.CreateRevision,
				"mod_revision":    ev.Kv.ModRevision,
				"version":         ev.Kv.Version,
				"has_lease":       ev.Kv.Lease != 0,
				"header_revision": resp.Header.Revision,
				"batch":           len(resp.Events),
			}
			if ev.PrevKv != nil {
				m["prev_value"] = string(ev.PrevKv.Value)
				m["prev_mod_revision"] = ev.PrevKv.ModRevision
			}
			emit(m)
			if seen++; seen == n {
				return
			}
		}
	}
	fail("watch channel closed after %d of %d events: %v", seen, n, ctx.Err())
}

// ---------------------------------------------------------------- lease

func leaseMode(c *clientv3.Client) {
	ctx, cancel := ctxFor(60 * time.Second)
	defer cancel()
	g, err := c.Grant(ctx, 10)
	if err != nil {
		fail("grant: %v", err)
	}
	id := g.ID
	emit(map[string]interface{}{"step": "grant", "ttl": g.TTL, "id_nonzero": id != 0, "error": g.Error})

	if _, err := c.Put(ctx, "go-lease/a", "1", clientv3.WithLease(id)); err != nil {
		fail("put with lease: %v", err)
	}
	if _, err := c.Put(ctx, "go-lease/b", "2", clientv3.WithLease(id)); err != nil {
		fail("put with lease: %v", err)
	}
	got, err := c.Get(ctx, "go-lease/", clientv3.WithPrefix())
	if err != nil {
		fail("get: %v", err)
	}
	attached := 0
	for _, kv := range got.Kvs {
		if clientv3.LeaseID(kv.Lease) == id {
			attached++
		}
	}
	emit(map[string]interface{}{"step": "put_with_lease", "keys": len(got.Kvs), "attached": attached})

	for i := 0; i < 3; i++ {
		ka, err := c.KeepAliveOnce(ctx, id)
		if err != nil {
			fail("keepalive once: %v", err)
		}
		emit(map[string]interface{}{"step": "keepalive_once", "ttl": ka.TTL, "same_id": ka.ID == id})
	}

	kctx, kcancel := context.WithCancel(ctx)
	ch, err := c.KeepAlive(kctx, id)
	if err != nil {
		fail("keepalive: %v", err)
	}
	select {
	case ka := <-ch:
		if ka == nil {
			fail("keepalive channel closed")
		}
		emit(map[string]interface{}{"step": "keepalive_stream", "ttl": ka.TTL, "same_id": ka.ID == id})
	case <-time.After(10 * time.Second):
		fail("no keepalive response in 10 s")
	}
	kcancel()

	ttl, err := c.TimeToLive(ctx, id, clientv3.WithAttachedKeys())
	if err != nil {
		fail("timetolive: %v", err)
	}
	keys := []string{}
	for _, k := range ttl.Keys {
		keys = append(keys, string(k))
	}
	sort.Strings(keys) // the server lists them in Go map order
	emit(map[string]interface{}{
		"step": "timetolive", "granted_ttl": ttl.GrantedTTL, "ttl_in_range": ttl.TTL >= 7 && ttl.TTL <= 10,
		"ttl_below_granted": ttl.TTL < ttl.GrantedTTL, "keys": keys, "same_id": ttl.ID == id,
	})
	plain, err := c.TimeToLive(ctx, id)
	if err != nil {
		fail("timetolive: %v", err)
	}
	emit(map[string]interface{}{"step": "timetolive_without_keys", "keys": len(plain.Keys)})

	ls, err := c.Leases(ctx)
	if err != nil {
		fail("leases: %v", err)
	}
	found := 0
	for _, l := range ls.Leases {
		if l.ID == id {
			found++
		}
	}
	emit(map[string]interface{}{"step": "leases", "found": found})

	if _, err := c.Revoke(ctx, id); err != nil {
		fail("revoke: %v", err)
	}
	got, err = c.Get(ctx, "go-lease/", clientv3.WithPrefix())
	if err != nil {
		fail("get: %v", err)
	}
	emit(map[string]interface{}{"step": "revoke", "keys_left": len(got.Kvs)})

	gone, err := c.TimeToLive(ctx, id, clientv3.WithAttachedKeys())
	if err != nil {
		fail("timetolive after revoke: %v", err)
	}
	emit(map[string]interface{}{"step": "timetolive_revoked", "ttl": gone.TTL, "granted_ttl": gone.GrantedTTL, "keys": len(gone.Keys)})

	_, err = c.KeepAliveOnce(ctx, id)
	emit(map[string]interface{}{"step": "keepalive_once_revoked", "result": errInfo(err)})
	_, err = c.Revoke(ctx, id)
	emit(map[string]interface{}{"step": "revoke_again", "result": errInfo(err)})
	_, err = c.Put(ctx, "go-lease/c", "3", clientv3.WithLease(id))
	emit(map[string]interface{}{"step": "put_with_revoked_lease", "result": errInfo(err)})

	short, err := c.Grant(ctx, 1)
	if err != nil {
		fail("grant 1: %v", err)
	}
	emit(map[string]interface{}{"step": "grant_ttl_1", "ttl": short.TTL})
	if _, err := c.Put(ctx, "go-lease/expiring", "x", clientv3.WithLease(short.ID)); err != nil {
		fail("put: %v", err)
	}
	start := time.Now()
	expired := false
	for time.Since(start) < 15*time.Second {
		r, err := c.Get(ctx, "go-lease/expiring")
		if err != nil {
			fail("get: %v", err)
		}
		if len(r.Kvs) == 0 {
			expired = true
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	after, err := c.TimeToLive(ctx, short.ID)
	if err != nil {
		fail("timetolive after expiry: %v", err)
	}
	emit(map[string]interface{}{"step": "expiry", "key_deleted": expired, "not_before_1s": time.Since(start) >= time.Second, "ttl": after.TTL})

	// A client-chosen id through the raw Lease service (clientv3.Grant cannot set one).
	raw := pb.NewLeaseClient(c.ActiveConnection())
	fixed, err := raw.LeaseGrant(ctx, &pb.LeaseGrantRequest{TTL: 30, ID: 0x1234abcd})
	if err != nil {
		fail("grant fixed id: %v", err)
	}
	emit(map[string]interface{}{"step": "grant_fixed_id", "id": fixed.ID, "ttl": fixed.TTL})
	_, err = raw.LeaseGrant(ctx, &pb.LeaseGrantRequest{TTL: 30, ID: 0x1234abcd})
	emit(map[string]interface{}{"step": "grant_duplicate_id", "result": errInfo(err)})
	_, err = raw.LeaseRevoke(ctx, &pb.LeaseRevokeRequest{ID: 0x1234abcd})
	emit(map[string]interface{}{"step": "revoke_fixed_id", "result": errInfo(err)})
	_, err = raw.LeaseRevoke(ctx, &pb.LeaseRevokeRequest{ID: 0x1234abcd})
	emit(map[string]interface{}{"step": "revoke_fixed_id_again", "result": errInfo(err)})
}

// ---------------------------------------------------------------- v3lock service

func lockRPCMode(c *clientv3.Client, name string, hold time.Duration) {
	ctx, cancel := ctxFor(60 * time.Second)
	defer cancel()
	g, err := c.Grant(ctx, 30)
	if err != nil {
		fail("grant: %v", err)
	}
	defer c.Revoke(context.Background(), g.ID)
	lc := v3lockpb.NewLockClient(c.ActiveConnection())
	say("waiting")
	resp, err := lc.Lock(ctx, &v3lockpb.LockRequest{Name: []byte(name), Lease: int64(g.ID)})
	if err != nil {
		fail("lock: %v", err)
	}
	say("acquired")
	fmt.Printf("key %s\n", leaseKey(string(resp.Key), name+"/", g.ID))
	kv, err := c.Get(ctx, string(resp.Key))
	if err != nil {
		fail("get: %v", err)
	}
	fmt.Printf("owner %v\n", len(kv.Kvs) == 1 && clientv3.LeaseID(kv.Kvs[0].Lease) == g.ID)
	time.Sleep(hold)
	say("releasing")
	if _, err := lc.Unlock(ctx, &v3lockpb.UnlockRequest{Key: resp.Key}); err != nil {
		fail("unlock: %v", err)
	}
	say("released")
}

// ---------------------------------------------------------------- v3election service

func electRPCMode(c *clientv3.Client, name, value string, hold time.Duration) {
	ctx, cancel := ctxFor(60 * time.Second)
	defer cancel()
	g, err := c.Grant(ctx, 30)
	if err != nil {
		fail("grant: %v", err)
	}
	defer c.Revoke(context.Background(), g.ID)
	ec := v3electionpb.NewElectionClient(c.ActiveConnection())
	say("campaigning")
	cr, err := ec.Campaign(ctx, &v3electionpb.CampaignRequest{Name: []byte(name), Lease: int64(g.ID), Value: []byte(value)})
	if err != nil {
		fail("campaign: %v", err)
	}
	say("leader")
	ld := cr.Leader
	fmt.Printf("key %s\n", leaseKey(string(ld.Key), name+"/", g.ID))
	fmt.Printf("leader_fields %v %v\n", string(ld.Name) == name, clientv3.LeaseID(ld.Lease) == g.ID && ld.Rev > 0)
	lr, err := ec.Leader(ctx, &v3electionpb.LeaderRequest{Name: []byte(name)})
	if err != nil {
		fail("leader: %v", err)
	}
	fmt.Printf("observed %s\n", lr.Kv.Value)
	if _, err := ec.Proclaim(ctx, &v3electionpb.ProclaimRequest{Leader: ld, Value: []byte(value + "+")}); err != nil {
		fail("proclaim: %v", err)
	}
	if lr, err = ec.Leader(ctx, &v3electionpb.LeaderRequest{Name: []byte(name)}); err != nil {
		fail("leader: %v", err)
	}
	fmt.Printf("proclaimed %s\n", lr.Kv.Value)
	time.Sleep(hold)
	say("resigning")
	if _, err := ec.Resign(ctx, &v3electionpb.ResignRequest{Leader: ld}); err != nil {
		fail("resign: %v", err)
	}
	say("resigned")
}

// ---------------------------------------------------------------- service errors

func rpcErrorsMode(c *clientv3.Client) {
	ctx, cancel := ctxFor(30 * time.Second)
	defer cancel()
	lc := v3lockpb.NewLockClient(c.ActiveConnection())
	ec := v3electionpb.NewElectionClient(c.ActiveConnection())

	_, err := lc.Lock(ctx, &v3lockpb.LockRequest{Name: []byte("rpcerr-lock"), Lease: 0x7eadbeef})
	emit(map[string]interface{}{"step": "lock_unknown_lease", "result": errInfo(err)})
	ur, err := lc.Unlock(ctx, &v3lockpb.UnlockRequest{Key: []byte("rpcerr-lock/none")})
	emit(map[string]interface{}{"step": "unlock_unknown_key", "result": errInfo(err), "has_header": ur != nil && ur.Header != nil})

	_, err = ec.Leader(ctx, &v3electionpb.LeaderRequest{Name: []byte("rpcerr-election")})
	emit(map[string]interface{}{"step": "leader_without_leader", "result": errInfo(err)})
	_, err = ec.Resign(ctx, &v3electionpb.ResignRequest{})
	emit(map[string]interface{}{"step": "resign_without_leader_key", "result": errInfo(err)})
	_, err = ec.Proclaim(ctx, &v3electionpb.ProclaimRequest{Value: []byte("x")})
	emit(map[string]interface{}{"step": "proclaim_without_leader_key", "result": errInfo(err)})
	_, err = ec.Campaign(ctx, &v3electionpb.CampaignRequest{Name: []byte("rpcerr-election"), Lease: 0x7eadbeef, Value: []byte("v")})
	emit(map[string]interface{}{"step": "campaign_unknown_lease", "result": errInfo(err)})

	g, err := c.Grant(ctx, 30)
	if err != nil {
		fail("grant: %v", err)
	}
	defer c.Revoke(context.Background(), g.ID)
	cr, err := ec.Campaign(ctx, &v3electionpb.CampaignRequest{Name: []byte("rpcerr-election"), Lease: int64(g.ID), Value: []byte("v")})
	if err != nil {
		fail("campaign: %v", err)
	}
	stale := *cr.Leader
	stale.Rev++
	_, err = ec.Proclaim(ctx, &v3electionpb.ProclaimRequest{Leader: &stale, Value: []byte("w")})
	emit(map[string]interface{}{"step": "proclaim_not_leader", "result": errInfo(err)})
	_, err = ec.Resign(ctx, &v3electionpb.ResignRequest{Leader: &stale})
	emit(map[string]interface{}{"step": "resign_not_leader", "result": errInfo(err)})
	lr, err := ec.Leader(ctx, &v3electionpb.LeaderRequest{Name: []byte("rpcerr-election")})
	if err != nil {
		fail("leader: %v", err)
	}
	emit(map[string]interface{}{"step": "still_leader", "value": string(lr.Kv.Value), "create_revision_matches": lr.Kv.CreateRevision == cr.Leader.Rev})
	_, err = ec.Resign(ctx, &v3electionpb.ResignRequest{Leader: cr.Leader})
	emit(map[string]interface{}{"step": "resign", "result": errInfo(err)})
	_, err = ec.Leader(ctx, &v3electionpb.LeaderRequest{Name: []byte("rpcerr-election")})
	emit(map[string]interface{}{"step": "leader_after_resign", "result": errInfo(err)})

	// Observe streams the current leader first.
	cr, err = ec.Campaign(ctx, &v3electionpb.CampaignRequest{Name: []byte("rpcerr-observe"), Lease: int64(g.ID), Value: []byte("first")})
	if err != nil {
		fail("campaign: %v", err)
	}
	octx, ocancel := context.WithCancel(ctx)
	stream, err := ec.Observe(octx, &v3electionpb.LeaderRequest{Name: []byte("rpcerr-observe")})
	if err != nil {
		fail("observe: %v", err)
	}
	first, err := stream.Recv()
	if err != nil {
		fail("observe recv: %v", err)
	}
	if _, err := ec.Proclaim(ctx, &v3electionpb.ProclaimRequest{Leader: cr.Leader, Value: []byte("second")}); err != nil {
		fail("proclaim: %v", err)
	}
	second, err := stream.Recv()
	if err != nil {
		fail("observe recv: %v", err)
	}
	ocancel()
	emit(map[string]interface{}{"step": "observe", "values": []string{string(first.Kv.Value), string(second.Kv.Value)},
		"put_types": []bool{first.Kv.Version == 1, second.Kv.Version == 2}, "header_revision_second": second.Header.Revision == second.Kv.ModRevision})
}
