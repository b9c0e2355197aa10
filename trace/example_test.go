package trace_test

import (
	"os"

	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/trace"
)

// Write a one-step trace: a client starts a handshake and sends its
// Hello. The same values always give the same bytes.
func ExampleWriter() {
	w := trace.NewWriter(os.Stdout)
	if err := w.Header(trace.Header{Type: trace.LineHeader, Schema: trace.Schema, Source: trace.SourceSim,
		Profile: protocol.Hardened(), Tokens: trace.TokensSymbolic}); err != nil {
		panic(err)
	}
	hello := protocol.Message{Kind: protocol.Hello, RegID: 1, Tc: protocol.Symbolic(1)}
	rec := trace.Record{Type: trace.LineStep, N: 1, Step: trace.StepStart, Machine: trace.MachineClient, RegID: 1, HS: 1,
		Sent:  trace.MsgOf(1, trace.MachineClient, false, hello),
		State: protocol.AwaitValidation.String()}
	if err := rec.Check(); err != nil { // what a reader checks before replaying it
		panic(err)
	}
	if err := w.Step(rec); err != nil {
		panic(err)
	}
	if err := w.End(trace.End{Type: trace.LineEnd, Steps: 1, Stopped: "done"}); err != nil {
		panic(err)
	}
	// Output:
	// {"type":"header","schema":1,"source":"sim","profile":{"Name":"hardened","TokenBits":128,"Lifetime":60000000000,"Retries":8,"Backoff":1000000000,"MaxBackoff":8000000000,"NewTokenOnRetry":false,"IdempotentHello":true,"DuplicateConfirm1":1,"KeepVerifiedOnHello":true,"CommandSeq":true,"CommandWindow":true,"CommandConfirms":true,"HalfOpenCap":1024,"SkipClientTokenCheck":false,"SkipServerTokenCheck":false,"StaticServerToken":false,"ReuseClientToken":false,"UnboundRegID":false},"variant":"","seed":0,"tokens":"symbolic"}
	// {"type":"step","n":1,"t":0,"step":"start","machine":"client","regid":1,"hs":1,"sent":{"id":1,"from":"client","kind":"Hello","regid":1,"tc":"#1"},"state":"AwaitValidation"}
	// {"type":"end","steps":1,"t":0,"stopped":"done","violations":[]}
}
