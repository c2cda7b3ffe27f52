// Command raftpb answers encoding questions with etcd 3.4's own Go code, for
// test/interop/raftpb-go.test.ts: raftpb (Message, Entry, Snapshot, ConfState,
// HardState, ConfChange), etcdserverpb.Request, the InternalRaftRequest-or-v2
// decision of the apply path, the membership JSON and the v2 store snapshot.
//
// Build offline in GOPATH mode against Debian's golang-etcd-server-dev:
//
//	GO111MODULE=off GOFLAGS= GOPATH=/usr/share/gocode go build -o raftpb .
//
// Protocol: one request per stdin line, one answer per stdout line, in order.
// Binary arguments are hex. An answer is "ok ..." or "err <text>".
//
//	msg|entry|snap|confstate|hardstate|confchange|v2req HEX
//	        Unmarshal, then Marshal again: "ok HEX"
//	classify HEX
//	        pbutil.MaybeUnmarshal(&InternalRaftRequest{}): "ok internal" or "ok v2"
//	        (and "ok v2-bad" when the bare Request does not unmarshal either)
//	gen-msg|gen-v2req|gen-confchange SEED N
//	        N random Go-made values, each on its own line: "ok HEX JSON" (JSON has
//	        every field, uint64s as decimal strings, bytes as hex)
//	ccctx JSON-HEX
//	        json.Unmarshal into ConfigChangeContext, then "ok MEMBER-JSON-HEX CCC-JSON-HEX"
//	members JSON-HEX
//	        json.Unmarshal into []Member, then "ok JSON-HEX" of json.Marshal
//	gen-internal SEED N
//	        "ok HEX" of N random InternalRaftRequests (puts, txns with nested ops, leases,
//	        alarms, auth, a wrapped v2 Request)
//	gen-members SEED N
//	        "ok JSON-HEX" of N random Members (ids full 64-bit, some learners, some unstarted)
//	v2snap-recover JSON-HEX
//	        v2store.Recovery + RaftCluster.Recover, then one v2 write (which panics if the
//	        event history is malformed): "ok MEMBERS-JSON-HEX REMOVED VERSION"
//	        (REMOVED: comma-separated hex ids or "-", VERSION or "-")
//	v2snap-make SPEC-JSON-HEX
//	        builds a store through RaftCluster.AddMember/UpdateAttributes/RemoveMember/
//	        SetVersion from {"members":[Member...],"removed":["hex"...],"version":"3.4.0"}:
//	        "ok HEX" of Clone().SaveNoCopy()
package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/coreos/go-semver/semver"
	"go.etcd.io/etcd/etcdserver/api/membership"
	"go.etcd.io/etcd/etcdserver/api/v2store"
	pb "go.etcd.io/etcd/etcdserver/etcdserverpb"
	"go.etcd.io/etcd/pkg/pbutil"
	"go.etcd.io/etcd/pkg/types"
	"go.etcd.io/etcd/raft/raftpb"
	"go.uber.org/zap"
)

type codec interface {
	Marshal() ([]byte, error)
	Unmarshal([]byte) error
}

func roundTrip(kind string) codec {
	switch kind {
	case "msg":
		return &raftpb.Message{}
	case "entry":
		return &raftpb.Entry{}
	case "snap":
		return &raftpb.Snapshot{}
	case "confstate":
		return &raftpb.ConfState{}
	case "hardstate":
		return &raftpb.HardState{}
	case "confchange":
		return &raftpb.ConfChange{}
	case "v2req":
		return &pb.Request{}
	}
	return nil
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 64<<20), 64<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for in.Scan() {
		fields := strings.Fields(in.Text())
		if len(fields) == 0 {
			continue
		}
		answer, err := handle(fields[0], fields[1:])
		if err != nil {
			fmt.Fprintf(out, "err %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
		} else {
			fmt.Fprintf(out, "ok %s\n", answer)
		}
	}
}

func arg(args []string, i int) (string, error) {
	if i >= len(args) {
		return "", fmt.Errorf("missing argument %d", i)
	}
	return args[i], nil
}

func hexArg(args []string, i int) ([]byte, error) {
	s, err := arg(args, i)
	if err != nil {
		return nil, err
	}
	if s == "-" {
		return []byte{}, nil
	}
	return hex.DecodeString(s)
}

func handle(op string, args []string) (answer string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	if c := roundTrip(op); c != nil {
		b, err := hexArg(args, 0)
		if err != nil {
			return "", err
		}
		if err := c.Unmarshal(b); err != nil {
			return "", err
		}
		out, err := c.Marshal()
		if err != nil {
			return "", err
		}
		return hex.EncodeToString(out), nil
	}
	switch op {
	case "classify":
		b, err := hexArg(args, 0)
		if err != nil {
			return "", err
		}
		var irr pb.InternalRaftRequest
		if pbutil.MaybeUnmarshal(&irr, b) {
			return "internal", nil
		}
		var r pb.Request
		if pbutil.MaybeUnmarshal(&r, b) {
			return "v2", nil
		}
		return "v2-bad", nil
	case "gen-msg", "gen-v2req", "gen-confchange", "gen-members", "gen-internal":
		seed, err := strconv.ParseInt(args[0], 10, 64)
		if err != nil {
			return "", err
		}
		n, err := strconv.Atoi(args[1])
		if err != nil {
			return "", err
		}
		return generate(op, rand.New(rand.NewSource(seed)), n)
	case "ccctx":
		b, err := hexArg(args, 0)
		if err != nil {
			return "", err
		}
		var ctx membership.ConfigChangeContext
		if err := json.Unmarshal(b, &ctx); err != nil {
			return "", err
		}
		m, err := json.Marshal(&ctx.Member)
		if err != nil {
			return "", err
		}
		c, err := json.Marshal(&ctx)
		if err != nil {
			return "", err
		}
		return hex.EncodeToString(m) + " " + hex.EncodeToString(c), nil
	case "members":
		b, err := hexArg(args, 0)
		if err != nil {
			return "", err
		}
		var ms []membership.Member
		if err := json.Unmarshal(b, &ms); err != nil {
			return "", err
		}
		out, err := json.Marshal(ms)
		if err != nil {
			return "", err
		}
		return hex.EncodeToString(out), nil
	case "v2snap-recover":
		b, err := hexArg(args, 0)
		if err != nil {
			return "", err
		}
		return recoverV2(b)
	case "v2snap-make":
		b, err := hexArg(args, 0)
		if err != nil {
			return "", err
		}
		return makeV2(b)
	}
	return "", fmt.Errorf("unknown op %q", op)
}

// ------------------------------------------------------------------ random Go-made values

func u64(r *rand.Rand) uint64 {
	switch r.Intn(4) {
	case 0:
		return 0
	case 1:
		return uint64(r.Intn(200))
	case 2:
		return uint64(r.Int63n(1 << 40))
	}
	return r.Uint64()
}

// safe: the terms and indexes our side keeps as JS numbers.
func safe(r *rand.Rand) uint64 {
	if r.Intn(3) == 0 {
		return uint64(r.Int63n(1 << 53))
	}
	return uint64(r.Intn(100000))
}

func bytesOrNil(r *rand.Rand, max int) []byte {
	if r.Intn(3) == 0 {
		return nil
	}
	b := make([]byte, 1+r.Intn(max))
	r.Read(b)
	return b
}

func ids(r *rand.Rand) []uint64 {
	var out []uint64
	for i := r.Intn(4); i > 0; i-- {
		out = append(out, u64(r))
	}
	return out
}

type entryJSON struct {
	Type  int32  `json:"type"`
	Term  string `json:"term"`
	Index string `json:"index"`
	Data  string `json:"data"`
}

type snapJSON struct {
	Data     string   `json:"data"`
	Index    string   `json:"index"`
	Term     string   `json:"term"`
	Voters   []string `json:"voters"`
	Learners []string `json:"learners"`
}

type msgJSON struct {
	Type       int32       `json:"type"`
	To         string      `json:"to"`
	From       string      `json:"from"`
	Term       string      `json:"term"`
	LogTerm    string      `json:"logTerm"`
	Index      string      `json:"index"`
	Entries    []entryJSON `json:"entries"`
	Commit     string      `json:"commit"`
	Snapshot   snapJSON    `json:"snapshot"`
	Reject     bool        `json:"reject"`
	RejectHint string      `json:"rejectHint"`
	Context    *string     `json:"context"`
}

func dec(v uint64) string { return strconv.FormatUint(v, 10) }

func decs(vs []uint64) []string {
	out := []string{}
	for _, v := range vs {
		out = append(out, dec(v))
	}
	return out
}

func randomMessage(r *rand.Rand) (raftpb.Message, msgJSON) {
	m := raftpb.Message{
		Type:       raftpb.MessageType(r.Intn(19)),
		To:         u64(r),
		From:       u64(r),
		Term:       safe(r),
		LogTerm:    safe(r),
		Index:      safe(r),
		Commit:     safe(r),
		Reject:     r.Intn(2) == 0,
		RejectHint: safe(r),
	}
	for i := r.Intn(4); i > 0; i-- {
		m.Entries = append(m.Entries, raftpb.Entry{
			Type: raftpb.EntryType(r.Intn(2)), Term: safe(r), Index: safe(r), Data: bytesOrNil(r, 40),
		})
	}
	if r.Intn(4) == 0 {
		m.Snapshot = raftpb.Snapshot{
			Data: bytesOrNil(r, 60),
			Metadata: raftpb.SnapshotMetadata{
				Index: 1 + safe(r), Term: safe(r),
				ConfState: raftpb.ConfState{Voters: ids(r), Learners: ids(r)},
			},
		}
	}
	switch r.Intn(4) {
	case 0:
		m.Context = []byte("CampaignTransfer")
	case 1:
		m.Context = bytesOrNil(r, 16)
	case 2:
		m.Context = []byte{} // set but empty: Go still writes the field
	}
	j := msgJSON{
		Type: int32(m.Type), To: dec(m.To), From: dec(m.From), Term: dec(m.Term), LogTerm: dec(m.LogTerm),
		Index: dec(m.Index), Commit: dec(m.Commit), Reject: m.Reject, RejectHint: dec(m.RejectHint),
		Entries: []entryJSON{},
		Snapshot: snapJSON{
			Data: hex.EncodeToString(m.Snapshot.Data), Index: dec(m.Snapshot.Metadata.Index),
			Term: dec(m.Snapshot.Metadata.Term), Voters: decs(m.Snapshot.Metadata.ConfState.Voters),
			Learners: decs(m.Snapshot.Metadata.ConfState.Learners),
		},
	}
	for _, e := range m.Entries {
		j.Entries = append(j.Entries, entryJSON{int32(e.Type), dec(e.Term), dec(e.Index), hex.EncodeToString(e.Data)})
	}
	if m.Context != nil {
		c := hex.EncodeToString(m.Context)
		j.Context = &c
	}
	return m, j
}

type v2reqJSON struct {
	ID         string `json:"id"`
	Method     string `json:"method"`
	Path       string `json:"path"`
	Val        string `json:"val"`
	Dir        bool   `json:"dir"`
	PrevValue  string `json:"prevValue"`
	PrevIndex  string `json:"prevIndex"`
	PrevExist  *bool  `json:"prevExist"`
	Expiration string `json:"expiration"`
	Wait       bool   `json:"wait"`
	Since      string `json:"since"`
	Recursive  bool   `json:"recursive"`
	Sorted     bool   `json:"sorted"`
	Quorum     bool   `json:"quorum"`
	Time       string `json:"time"`
	Stream     bool   `json:"stream"`
	Refresh    *bool  `json:"refresh"`
}

var methods = []string{"PUT", "GET", "QGET", "POST", "DELETE", "SYNC", "HEAD", ""}

func randomV2Request(r *rand.Rand) (pb.Request, v2reqJSON) {
	q := pb.Request{
		ID:         u64(r),
		Method:     methods[r.Intn(len(methods))],
		Path:       fmt.Sprintf("/0/members/%x/attributes", r.Uint64()),
		Val:        fmt.Sprintf(`{"name":"n%d","clientURLs":["http://127.0.0.1:%d"]}`, r.Intn(9), r.Intn(65536)),
		Dir:        r.Intn(2) == 0,
		PrevValue:  strings.Repeat("p", r.Intn(3)),
		PrevIndex:  safe(r),
		Expiration: int64(r.Uint64()),
		Wait:       r.Intn(2) == 0,
		Since:      safe(r),
		Recursive:  r.Intn(2) == 0,
		Sorted:     r.Intn(2) == 0,
		Quorum:     r.Intn(2) == 0,
		Time:       int64(r.Uint64()),
		Stream:     r.Intn(2) == 0,
	}
	if r.Intn(2) == 0 {
		q.Path = "/0/version"
		q.Val = "3.4.0"
	}
	if r.Intn(2) == 0 {
		q.PrevExist = pbutil.Boolp(r.Intn(2) == 0)
	}
	if r.Intn(2) == 0 {
		q.Refresh = pbutil.Boolp(r.Intn(2) == 0)
	}
	j := v2reqJSON{
		ID: dec(q.ID), Method: q.Method, Path: q.Path, Val: q.Val, Dir: q.Dir, PrevValue: q.PrevValue,
		PrevIndex: dec(q.PrevIndex), PrevExist: q.PrevExist, Expiration: strconv.FormatInt(q.Expiration, 10),
		Wait: q.Wait, Since: dec(q.Since), Recursive: q.Recursive, Sorted: q.Sorted, Quorum: q.Quorum,
		Time: strconv.FormatInt(q.Time, 10), Stream: q.Stream, Refresh: q.Refresh,
	}
	return q, j
}

type ccJSON struct {
	ID      string `json:"id"`
	Type    int32  `json:"type"`
	NodeID  string `json:"nodeId"`
	Context string `json:"context"`
}

func randomMember(r *rand.Rand) membership.Member {
	m := membership.Member{ID: types.ID(u64(r))}
	for i := r.Intn(3); i > 0; i-- {
		m.PeerURLs = append(m.PeerURLs, fmt.Sprintf("http://127.0.0.1:%d", r.Intn(65536)))
	}
	m.IsLearner = r.Intn(3) == 0
	if r.Intn(3) != 0 {
		m.Name = fmt.Sprintf("m%d<&>\u2028\"\\\t", r.Intn(100))
		m.ClientURLs = []string{fmt.Sprintf("https://10.0.0.%d:2379", r.Intn(255))}
	}
	return m
}

func generate(op string, r *rand.Rand, n int) (string, error) {
	var lines []string
	for i := 0; i < n; i++ {
		var value codec
		var desc interface{}
		switch op {
		case "gen-msg":
			m, j := randomMessage(r)
			value, desc = &m, j
		case "gen-v2req":
			q, j := randomV2Request(r)
			value, desc = &q, j
		case "gen-confchange":
			cc := raftpb.ConfChange{
				ID: u64(r), Type: raftpb.ConfChangeType(r.Intn(4)), NodeID: u64(r), Context: bytesOrNil(r, 50),
			}
			value = &cc
			desc = ccJSON{dec(cc.ID), int32(cc.Type), dec(cc.NodeID), hex.EncodeToString(cc.Context)}
		case "gen-internal":
			irr := randomInternal(r)
			b, err := irr.Marshal()
			if err != nil {
				return "", err
			}
			lines = append(lines, hex.EncodeToString(b))
			continue
		case "gen-members":
			var ms []membership.Member
			for k := 1 + r.Intn(4); k > 0; k-- {
				ms = append(ms, randomMember(r))
			}
			b, err := json.Marshal(ms)
			if err != nil {
				return "", err
			}
			lines = append(lines, hex.EncodeToString(b))
			continue
		}
		b, err := value.Marshal()
		if err != nil {
			return "", err
		}
		j, err := json.Marshal(desc)
		if err != nil {
			return "", err
		}
		lines = append(lines, hex.EncodeToString(b)+" "+hex.EncodeToString(j))
	}
	return strings.Join(lines, "\nok "), nil
}

func randomOp(r *rand.Rand, depth int) *pb.RequestOp {
	switch r.Intn(4) {
	case 0:
		return &pb.RequestOp{Request: &pb.RequestOp_RequestRange{RequestRange: &pb.RangeRequest{
			Key: bytesOrNil(r, 8), RangeEnd: bytesOrNil(r, 8), Limit: int64(r.Intn(10)), Revision: int64(r.Intn(100)),
			SortOrder: pb.RangeRequest_SortOrder(r.Intn(3)), CountOnly: r.Intn(2) == 0, MaxModRevision: int64(u64(r)),
		}}}
	case 1:
		return &pb.RequestOp{Request: &pb.RequestOp_RequestDeleteRange{RequestDeleteRange: &pb.DeleteRangeRequest{
			Key: bytesOrNil(r, 8), PrevKv: r.Intn(2) == 0,
		}}}
	case 2:
		if depth < 3 {
			return &pb.RequestOp{Request: &pb.RequestOp_RequestTxn{RequestTxn: randomTxn(r, depth+1)}}
		}
	}
	return &pb.RequestOp{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{
		Key: bytesOrNil(r, 8), Value: bytesOrNil(r, 16), Lease: int64(u64(r)), IgnoreLease: r.Intn(2) == 0,
	}}}
}

func randomTxn(r *rand.Rand, depth int) *pb.TxnRequest {
	t := &pb.TxnRequest{}
	for i := r.Intn(3); i > 0; i-- {
		c := &pb.Compare{Result: pb.Compare_CompareResult(r.Intn(4)), Target: pb.Compare_CompareTarget(r.Intn(5)),
			Key: bytesOrNil(r, 8), RangeEnd: bytesOrNil(r, 4)}
		switch r.Intn(3) {
		case 0:
			c.TargetUnion = &pb.Compare_Version{Version: int64(r.Intn(9))}
		case 1:
			c.TargetUnion = &pb.Compare_Value{Value: bytesOrNil(r, 8)}
		default:
			c.TargetUnion = &pb.Compare_Lease{Lease: int64(u64(r))}
		}
		t.Compare = append(t.Compare, c)
	}
	for i := r.Intn(3); i > 0; i-- {
		t.Success = append(t.Success, randomOp(r, depth))
	}
	for i := r.Intn(2); i > 0; i-- {
		t.Failure = append(t.Failure, randomOp(r, depth))
	}
	return t
}

func randomInternal(r *rand.Rand) pb.InternalRaftRequest {
	irr := pb.InternalRaftRequest{Header: &pb.RequestHeader{ID: u64(r)}}
	if r.Intn(5) == 0 {
		irr.Header.Username = "root"
		irr.Header.AuthRevision = u64(r)
	}
	switch r.Intn(10) {
	case 0:
		irr.Put = &pb.PutRequest{Key: []byte("k"), Value: bytesOrNil(r, 30), PrevKv: r.Intn(2) == 0}
	case 1:
		irr.DeleteRange = &pb.DeleteRangeRequest{Key: []byte("a"), RangeEnd: []byte("z")}
	case 2, 3:
		irr.Txn = randomTxn(r, 0)
	case 4:
		irr.Compaction = &pb.CompactionRequest{Revision: int64(r.Intn(1000)), Physical: r.Intn(2) == 0}
	case 5:
		irr.LeaseGrant = &pb.LeaseGrantRequest{TTL: int64(r.Intn(100)), ID: int64(u64(r))}
	case 6:
		irr.LeaseCheckpoint = &pb.LeaseCheckpointRequest{Checkpoints: []*pb.LeaseCheckpoint{{ID: 7, Remaining_TTL: 3}}}
	case 7:
		irr.Alarm = &pb.AlarmRequest{Action: pb.AlarmRequest_ACTIVATE, MemberID: u64(r), Alarm: pb.AlarmType_NOSPACE}
	case 8:
		irr.AuthRoleGrantPermission = &pb.AuthRoleGrantPermissionRequest{Name: "role", Perm: nil}
		irr.AuthUserAdd = &pb.AuthUserAddRequest{Name: "u", Password: "p"}
	default:
		q, _ := randomV2Request(r)
		irr.V2 = &q
	}
	return irr
}

// ------------------------------------------------------------------ v2 store snapshots

func recoverV2(data []byte) (string, error) {
	st := v2store.New("/0", "/1")
	if err := st.Recovery(data); err != nil {
		return "", err
	}
	c := membership.NewCluster(zap.NewNop(), "")
	c.SetStore(st)
	c.Recover(func(*zap.Logger, *semver.Version) {})
	members, err := json.Marshal(c.Members())
	if err != nil {
		return "", err
	}
	removed := "-"
	if e, err := st.Get("/0/removed_members", true, true); err == nil {
		var hexIDs []string
		for _, n := range e.Node.Nodes {
			hexIDs = append(hexIDs, n.Key[strings.LastIndex(n.Key, "/")+1:])
		}
		if len(hexIDs) > 0 {
			removed = strings.Join(hexIDs, ",")
		}
	}
	version := "-"
	if v := c.Version(); v != nil {
		version = v.String()
	}
	// A write after recovery exercises the event history (Events[Back]) and the indexes.
	if _, err := st.Set("/0/after-recovery", false, "x", v2store.TTLOptionSet{ExpireTime: v2store.Permanent}); err != nil {
		return "", err
	}
	return hex.EncodeToString(members) + " " + removed + " " + version, nil
}

type v2Spec struct {
	Members []membership.Member `json:"members"`
	Removed []string            `json:"removed"`
	Version string              `json:"version"`
}

func makeV2(specJSON []byte) (string, error) {
	var spec v2Spec
	if err := json.Unmarshal(specJSON, &spec); err != nil {
		return "", err
	}
	st := v2store.New("/0", "/1")
	c := membership.NewCluster(zap.NewNop(), "")
	c.SetStore(st)
	sort.Slice(spec.Members, func(i, j int) bool { return spec.Members[i].ID < spec.Members[j].ID })
	for i := range spec.Members {
		m := spec.Members[i]
		c.AddMember(&membership.Member{ID: m.ID, RaftAttributes: m.RaftAttributes})
		if m.Name != "" || len(m.ClientURLs) > 0 {
			c.UpdateAttributes(m.ID, m.Attributes)
		}
	}
	for _, h := range spec.Removed {
		id, err := types.IDFromString(h)
		if err != nil {
			return "", err
		}
		c.AddMember(&membership.Member{ID: id, RaftAttributes: membership.RaftAttributes{PeerURLs: []string{"http://removed"}}})
		c.RemoveMember(id)
	}
	if spec.Version != "" {
		c.SetVersion(semver.Must(semver.NewVersion(spec.Version)), func(*zap.Logger, *semver.Version) {})
	}
	b, err := st.Clone().SaveNoCopy()
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}
