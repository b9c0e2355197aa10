package trace_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

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

// Read a trace whose second record was cut short by a crash: the reader
// names the line and what is wrong with it, and reads on.
func ExampleReader() {
	in := `{"type":"header","schema":1,"source":"transport","profile":{"Name":"hardened"},"variant":"","seed":0,"tokens":""}
{"type":"step","n":1,"t":5,"step":"start","machine":"client","regid":1,"sent":{"id":7,"from":"client","kind":"Hello","regid":1,"tc":"#1"},"state":"AwaitValidation"}
{"type":"step","n":2,"t":9,"step":"deli
{"type":"step","n":3,"t":9,"step":"deliver","machine":"client","regid":1,"recv":{"id":8,"kind":"Validation","regid":1,"tc":"#1","ts":"zz"}}
`
	rd := trace.NewReader(strings.NewReader(in))
	for {
		l, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(l.Number, l.Type)
	}
	// Output:
	// 1 header
	// 2 step
	// trace: line 3: a record cut short (39 bytes)
	// trace: line 4: message 8: ts: malformed token "zz": want 32 hex digits
}
