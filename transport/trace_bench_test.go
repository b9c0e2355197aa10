package transport

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/verishake/verishake/protocol"
)

// BenchmarkTraceWriterStep traces a server's Confirm1 step (a message in,
// one out, a claim) to a file: what a traced service pays per step.
func BenchmarkTraceWriterStep(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "trace.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	tw, err := NewTraceWriter(f, protocol.Hardened())
	if err != nil {
		b.Fatal(err)
	}
	tc, ts := protocol.Token{1, 2, 3}, protocol.Token{4, 5, 6}
	st := Step{Role: protocol.RoleServer, RegID: 42, Time: 1, Input: InputRecv, State: uint8(protocol.SessionVerified),
		Recv: protocol.Message{Kind: protocol.Confirm1, RegID: 42, Tc: tc, Ts: ts}, RecvID: 7,
		Send: protocol.Message{Kind: protocol.Confirm2, RegID: 42, Tc: tc, Ts: ts}, SendID: 8,
		Claims: []protocol.Claim{{Kind: protocol.Commit, Role: protocol.RoleServer, RegID: 42, Tc: tc, Ts: ts}}}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		st.Time = protocol.Time(i)
		tw.Step(st)
	}
	if err := tw.Close(); err != nil {
		b.Fatal(err)
	}
}
