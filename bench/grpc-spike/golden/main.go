// Prints protobuf encodings made by etcd 3.4's own Go types, as hex, so the
// TypeScript round-trip test (src/api/grpc/pb-roundtrip.test.ts) can check
// our field numbers against etcd's real code rather than our reading of it.
//
//	cd bench/grpc-spike/golden && GO111MODULE=off GOPATH=/usr/share/gocode go run .
package main

import (
	"encoding/hex"
	"fmt"

	pb "go.etcd.io/etcd/etcdserver/etcdserverpb"
	"go.etcd.io/etcd/mvcc/mvccpb"
)

func show(name string, m interface{ Marshal() ([]byte, error) }) {
	b, err := m.Marshal()
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s %s\n", name, hex.EncodeToString(b))
}

func main() {
	hdr := &pb.ResponseHeader{ClusterId: 0xcdef0123456789ab, MemberId: 0x8e9e05c52164694d, Revision: 123456789, RaftTerm: 7}
	show("ResponseHeader", hdr)
	show("PutRequest", &pb.PutRequest{Key: []byte("foo"), Value: []byte("bar"), Lease: 0x694d7a1b2c3d4e5f, PrevKv: true, IgnoreValue: true, IgnoreLease: true})
	show("RangeResponse", &pb.RangeResponse{
		Header: hdr,
		Kvs: []*mvccpb.KeyValue{{Key: []byte("k1"), CreateRevision: 5, ModRevision: 9, Version: 3, Value: []byte("v1"), Lease: 0x7fffffffffffffff}},
		More:  true,
		Count: 42,
	})
	show("RangeRequest", &pb.RangeRequest{Key: []byte("a"), RangeEnd: []byte("z"), Limit: 10, Revision: 99, SortOrder: pb.RangeRequest_DESCEND, SortTarget: pb.RangeRequest_MOD, Serializable: true, KeysOnly: true, CountOnly: true, MinModRevision: 1, MaxModRevision: 2, MinCreateRevision: 3, MaxCreateRevision: 4})
	show("TxnRequest", &pb.TxnRequest{
		Compare: []*pb.Compare{{Result: pb.Compare_GREATER, Target: pb.Compare_MOD, Key: []byte("c"), TargetUnion: &pb.Compare_ModRevision{ModRevision: 17}, RangeEnd: []byte("d")}},
		Success: []*pb.RequestOp{{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{Key: []byte("s"), Value: []byte("1")}}}},
		Failure: []*pb.RequestOp{{Request: &pb.RequestOp_RequestDeleteRange{RequestDeleteRange: &pb.DeleteRangeRequest{Key: []byte("f")}}}},
	})
	show("WatchResponse", &pb.WatchResponse{Header: hdr, WatchId: 3, Created: true, CompactRevision: 11, CancelReason: "x", Fragment: true,
		Events: []*mvccpb.Event{{Type: mvccpb.DELETE, Kv: &mvccpb.KeyValue{Key: []byte("e"), ModRevision: 12}}}})
	show("LeaseGrantResponse", &pb.LeaseGrantResponse{Header: hdr, ID: 0x694d7a1b2c3d4e5f, TTL: -1, Error: "e"})
	show("StatusResponse", &pb.StatusResponse{Header: hdr, Version: "3.4.23", DbSize: 1 << 40, Leader: 0x8e9e05c52164694d, RaftIndex: 1000, RaftTerm: 7, RaftAppliedIndex: 999, Errors: []string{"e"}, DbSizeInUse: 4096, IsLearner: true})
	show("MemberListResponse", &pb.MemberListResponse{Header: hdr, Members: []*pb.Member{{ID: 0xffffffffffffffff, Name: "n", PeerURLs: []string{"http://p"}, ClientURLs: []string{"http://c"}, IsLearner: true}}})
}
