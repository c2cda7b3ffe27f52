// bbolt-check opens a bbolt file with the real bbolt (Debian's go.etcd.io/bbolt, the version
// etcd 3.4 uses), runs tx.Check() and, with -dump, prints every bucket and key so a test can
// compare the real library's view of a file with etcd-ts's reader.
//
//	bbolt-check [-dump] [-rw] FILE
//
// Output: "ok pages=N" or one "error: ..." line per problem (exit 1). With -dump, before that,
// one line per entry: "<bucket path: hex names joined by '/', "-" for the root> <key hex> <value hex | 'bucket'>".
// -rw opens read-write with etcd's options and commits one write (a new bucket and key), to
// prove the file can be modified by bbolt itself; run it on a copy.
package main

import (
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"strings"

	bolt "go.etcd.io/bbolt"
)

func dump(b *bolt.Bucket, path []string) {
	_ = b.ForEach(func(k, v []byte) error {
		if v == nil {
			fmt.Printf("%s %s bucket\n", strings.Join(path, "/"), hex.EncodeToString(k))
			dump(b.Bucket(k), append(append([]string{}, path...), hex.EncodeToString(k)))
			return nil
		}
		fmt.Printf("%s %s %s\n", strings.Join(path, "/"), hex.EncodeToString(k), hex.EncodeToString(v))
		return nil
	})
}

func main() {
	doDump := flag.Bool("dump", false, "print every key")
	rw := flag.Bool("rw", false, "open read-write and commit a write")
	flag.Parse()
	path := flag.Arg(0)

	opts := &bolt.Options{ReadOnly: !*rw}
	if *rw {
		opts.NoFreelistSync = true
	}
	db, err := bolt.Open(path, 0600, opts)
	if err != nil {
		fmt.Printf("error: open: %v\n", err)
		os.Exit(1)
	}
	defer db.Close()

	if *rw {
		err = db.Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists([]byte("zz-written-by-bbolt"))
			if err != nil {
				return err
			}
			return b.Put([]byte("k"), []byte("v"))
		})
		if err != nil {
			fmt.Printf("error: update: %v\n", err)
			os.Exit(1)
		}
	}

	failed := false
	err = db.View(func(tx *bolt.Tx) error {
		if *doDump {
			_ = tx.ForEach(func(name []byte, b *bolt.Bucket) error {
				fmt.Printf("- %s bucket\n", hex.EncodeToString(name))
				dump(b, []string{hex.EncodeToString(name)})
				return nil
			})
		}
		for e := range tx.Check() {
			fmt.Printf("error: %v\n", e)
			failed = true
		}
		if !failed {
			fmt.Printf("ok pages=%d\n", tx.Size()/int64(db.Info().PageSize))
		}
		return nil
	})
	if err != nil || failed {
		os.Exit(1)
	}
}
