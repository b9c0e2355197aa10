package transport

import (
	"path/filepath"
	"testing"

	"github.com/verishake/verishake/protocol"
)

// BenchmarkOpenBoltStore opens a store of 10,000 slots: what the checks
// made at open (every slot decoded and checked, and bbolt's page check)
// cost at start-up.
func BenchmarkOpenBoltStore(b *testing.B) {
	path := filepath.Join(b.TempDir(), "s.db")
	s, err := OpenBoltStore(path)
	if err != nil {
		b.Fatal(err)
	}
	s.db.NoSync, s.db.MaxBatchSize = true, 1 // set-up only: no fsync, no batching delay
	for i := range 10000 {
		sl := protocol.Slot{RegID: protocol.RegID(i + 1), State: protocol.SessionVerified,
			Current: protocol.Session{Tc: protocol.Token{1, byte(i)}, Ts: protocol.Token{2, byte(i >> 8)}, Expires: 1}}
		if err := s.Save(sl); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		s, err := OpenBoltStore(path)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBoltStoreSave saves slots one at a time into a store of 1,000,
// without fsync (NoSync), so that what is measured is the work a Save adds
// to the fsync every durable Save pays: encoding, checksum, digest.
func BenchmarkBoltStoreSave(b *testing.B) {
	s, err := OpenBoltStore(filepath.Join(b.TempDir(), "s.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	s.db.NoSync, s.db.MaxBatchSize = true, 1
	for i := 0; b.Loop(); i++ {
		sl := protocol.Slot{RegID: protocol.RegID(i%1000 + 1), State: protocol.SessionVerified,
			Current: protocol.Session{Tc: protocol.Token{1, byte(i)}, Ts: protocol.Token{2, byte(i >> 8)}, Expires: 1}, LastSeq: uint32(i)}
		if err := s.Save(sl); err != nil {
			b.Fatal(err)
		}
	}
}
