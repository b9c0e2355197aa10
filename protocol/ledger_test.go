package protocol_test

import (
	"errors"
	"testing"

	. "github.com/verishake/verishake/protocol"
)

// Any bytes decode to a ledger or fail with ErrLedger, never panic; a
// decoded ledger is sorted, holds only Running and Issued claims, and
// encodes to bytes that decode to it again.
func FuzzLedgerUnmarshal(f *testing.F) {
	var l Ledger
	l.Observe(claim(Running, RoleClient, 1, 1, 2, 0))
	l.Observe(claim(Issued, RoleServer, 3, 0, 2, 7))
	seed, _ := l.AppendBinary(nil)
	f.Add(seed)
	f.Add([]byte{0})
	f.Add([]byte{1, byte(Running), byte(RoleServer), 1, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		var got Ledger
		if err := got.UnmarshalBinary(b); err != nil {
			if !errors.Is(err, ErrLedger) {
				t.Fatalf("error %v does not wrap ErrLedger", err)
			}
			if len(got) != 0 {
				t.Fatalf("a failed decode left %d claims", len(got))
			}
			return
		}
		for i, c := range got {
			if c.Kind != Running && c.Kind != Issued {
				t.Fatalf("claim %d is a %v", i, c.Kind)
			}
		}
		enc, _ := got.AppendBinary(nil)
		var again Ledger
		if err := again.UnmarshalBinary(enc); err != nil {
			t.Fatalf("re-encoded ledger does not decode: %v", err)
		}
		if len(again) != len(got) {
			t.Fatalf("round trip: %d claims, then %d", len(got), len(again))
		}
		for i := range got {
			if got[i] != again[i] {
				t.Fatalf("round trip changed claim %d: %v, then %v", i, got[i], again[i])
			}
		}
	})
}
