package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/trace"
)

// tracedRun is a lossy run with a restart and a replaying attacker, traced
// into three files: two server starts and the devices.
func tracedRun(t *testing.T) (*world, []TraceInput) {
	w := newWorld(t, worldConfig{profile: fastHardened(), trace: true, bolt: true,
		faults: Faults{Loss: 0.2, Dup: 0.2, DelayMax: 20 * time.Millisecond}})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	devs := w.addDevices(10)
	w.handshakeAll(ctx, devs)
	w.commandEach(ctx, devs)
	w.quiesce(t)
	w.stopServer()
	w.startServer()
	w.replay(ctx, rand.New(rand.NewPCG(3, 4)))
	// Forged pushes with no id: the device rejects them, the validator
	// flags them as injections. The relay loses one in five, so twenty
	// are sent: that all are lost has probability 0.2^20.
	forger := &FCMPusher{BaseURL: w.relayHTTP.URL, Project: "demo", Auth: StaticBearer("relay-token"), Client: w.client}
	for seq := uint32(99); seq < 119; seq++ {
		require.NoError(t, forger.Push(ctx, Push{Message: protocol.Message{Kind: protocol.Command, RegID: devs[0].RegID(), Ts: protocol.Token{1}, Seq: seq}}))
	}
	w.quiesce(t)
	w.commandEach(ctx, devs)
	w.quiesce(t)
	return w, w.traces()
}

func TestTraceOfRealRunValidates(t *testing.T) {
	w, files := tracedRun(t)
	rep, err := ValidateTraces(files)
	require.NoError(t, err)
	require.True(t, rep.OK(), "%v", rep.Violations)
	require.Equal(t, 10, rep.Verified)
	require.Equal(t, 10, rep.Clients)
	// The forged pushes are the only injections; the relay may lose or
	// duplicate each.
	require.NotEmpty(t, rep.Injections, "the forged pushes")
	for _, in := range rep.Injections {
		require.Equal(t, "Command", in.Kind)
	}
	require.Equal(t, rep.Receives-len(rep.Injections), rep.Matched)
	require.NotZero(t, rep.Claims)
	d := rep.SequenceDiagram(w.devices[0].RegID())
	require.True(t, strings.HasPrefix(d, "sequenceDiagram\n"))
	require.Contains(t, d, "C->>S: Hello Tc=")
	require.Contains(t, d, "S->>C: Confirm2 Ts=")
	require.Len(t, rep.VerifiedClients(), 10)
}

// edit rewrites the first step line of file f that match selects, and
// returns its line number.
func edit(t *testing.T, files []TraceInput, f int, match func(*trace.Record) bool, change func(*trace.Record)) ([]TraceInput, int) {
	t.Helper()
	data, err := readAll(files[f])
	require.NoError(t, err)
	lines := strings.Split(string(data), "\n")
	for i, ln := range lines {
		var rec trace.Record
		if json.Unmarshal([]byte(ln), &rec) != nil || rec.Type != trace.LineStep || !match(&rec) {
			continue
		}
		change(&rec)
		b, err := json.Marshal(rec)
		require.NoError(t, err)
		lines[i] = string(b)
		out := make([]TraceInput, len(files))
		for j, in := range files {
			b, _ := readAll(in)
			out[j] = TraceInput{Name: in.Name, R: bytes.NewReader(b)}
		}
		out[f] = TraceInput{Name: files[f].Name, R: strings.NewReader(strings.Join(lines, "\n"))}
		return out, i + 1
	}
	t.Fatalf("no line to edit in %s", files[f].Name)
	return nil, 0
}

func readAll(in TraceInput) ([]byte, error) {
	r := in.R.(*bytes.Reader)
	b := make([]byte, r.Size())
	_, err := r.ReadAt(b, 0)
	return b, err
}

func TestValidateRejectsEditedStepNamingItsLine(t *testing.T) {
	_, files := tracedRun(t)
	last := len(files) - 1 // devices.jsonl
	cases := []struct {
		name   string
		file   int
		match  func(*trace.Record) bool
		change func(*trace.Record)
		reason string
	}{
		{"server claims another Ts", 0,
			func(r *trace.Record) bool { return len(r.Claims) == 2 },
			func(r *trace.Record) { r.Claims[1].Ts = strings.Repeat("ab", 16) },
			"claims"},
		{"client accepts Confirm2 but stays put", last,
			func(r *trace.Record) bool { return r.Recv != nil && r.Recv.Kind == "Confirm2" && r.Err == "" },
			func(r *trace.Record) { r.State = protocol.AwaitConfirm2.String() },
			"state"},
		{"command renumbered", 0,
			func(r *trace.Record) bool { return r.Step == "issue" },
			func(r *trace.Record) { r.Sent.Seq += 5; r.Claims[0].Seq += 5 },
			"sends"},
		{"rejected replay shown as accepted", last,
			func(r *trace.Record) bool { return r.Err != "" && r.Recv != nil },
			func(r *trace.Record) { r.Err = "" },
			"rejects"},
		{"confirm2 sent without a confirm1", 1,
			func(r *trace.Record) bool { return r.Sent != nil && r.Sent.Kind == "Confirm2" },
			func(r *trace.Record) { r.Recv.Ts = strings.Repeat("cd", 16) },
			"the model"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in, line := edit(t, files, tc.file, tc.match, tc.change)
			_, err := ValidateTraces(in)
			te, ok := errors.AsType[*TraceError](err)
			require.True(t, ok, "%v", err)
			require.True(t, te.Forbidden, "%v", err)
			require.Equal(t, files[tc.file].Name, te.File, "%v", err)
			require.Equal(t, line, te.Line, "%v", err)
			require.Contains(t, te.Reason, tc.reason)
		})
	}
}

// TestValidateRefusesMalformedTraces: a line that does not parse names
// its line and what is wrong with it. The reasons are those validate gave
// when the schema was package sim's: moving it to package trace changed
// no message.
func TestValidateRefusesMalformedTraces(t *testing.T) {
	hdr, err := json.Marshal(trace.Header{Type: trace.LineHeader, Schema: trace.Schema, Source: trace.SourceTransport, Profile: protocol.Hardened()})
	require.NoError(t, err)
	h := string(hdr) + "\n"
	start := `{"type":"step","n":1,"t":0,"step":"start","machine":"client","regid":1,"sent":{"id":5,"kind":"Hello","regid":1,"tc":"#1"},"state":"AwaitValidation"}`
	for name, tc := range map[string]struct {
		text   string
		line   int
		reason string
	}{
		"empty":        {"", 1, "empty trace: no header"},
		"not json":     {h + "{oops\n", 2, "not a JSON object: invalid character 'o' looking for beginning of object key string"},
		"no header":    {`{"type":"step","n":1,"t":0,"step":"start"}` + "\n", 1, `first line is a "step", want the header`},
		"schema":       {strings.Replace(h, `"schema":1`, `"schema":99`, 1), 1, "trace schema 99, this validator reads 1"},
		"header field": {strings.Replace(h, `"seed":0`, `"seed":0,"sed":1`, 1), 1, `header: json: unknown field "sed"`},
		"config field": {strings.Replace(h, `"tokens":""`, `"tokens":"","config":{"clientz":1}`, 1), 1, `header: json: unknown field "clientz"`},
		"unknown step": {h + `{"type":"step","n":1,"t":0,"step":"teleport"}` + "\n", 2, `unknown step "teleport"`},
		"bad token":    {h + strings.Replace(start, `"#1"`, `"xyz"`, 1) + "\n", 2, `message 5: tc: malformed token "xyz": want 32 hex digits`},
		"bad kind":     {h + strings.Replace(start, `"Hello"`, `"Hullo"`, 1) + "\n", 2, `message 5: unknown message kind "Hullo"`},
		"bad claim":    {h + strings.Replace(start, `"state"`, `"claims":[{"kind":"Running","role":"nobody","regid":1}],"state"`, 1) + "\n", 2, `claim: unknown role "nobody"`},
		"extra field":  {h + `{"type":"step","n":1,"t":0,"step":"start","bogus":1}` + "\n", 2, `step: json: unknown field "bogus"`},
		"field type":   {h + `{"type":"step","n":"one","t":0,"step":"start"}` + "\n", 2, "step: json: cannot unmarshal string into Go struct field Record.n of type uint64"},
		"line type":    {h + `{"type":"stop"}` + "\n", 2, `unknown line type "stop"`},
		"after end":    {h + `{"type":"end","steps":0,"t":0,"stopped":"closed","violations":[]}` + "\n" + start + "\n", 3, `a "step" line after the end line`},
	} {
		_, err := ValidateTraces([]TraceInput{{Name: "t.jsonl", R: strings.NewReader(tc.text)}})
		te, ok := errors.AsType[*TraceError](err)
		require.True(t, ok, "%s: %v", name, err)
		require.False(t, te.Forbidden, name)
		require.Equal(t, tc.line, te.Line, "%s: %v", name, err)
		require.Equal(t, tc.reason, te.Reason, name)
	}
}

func TestValidateOrdersReceiveAfterSend(t *testing.T) {
	h := protocol.Hardened()
	hdr, _ := json.Marshal(trace.Header{Type: trace.LineHeader, Schema: trace.Schema, Source: trace.SourceTransport, Profile: h})
	c := protocol.NewClient(1)
	tokens := protocol.NewSeededTokens(1)
	hs := h.MustCompile()
	start := Record(Step{Role: protocol.RoleClient, RegID: 1, Time: 10, Input: InputStart,
		Send: c.Start(hs, 10, tokens).Send, SendID: 77, State: uint8(protocol.AwaitValidation)})
	var sl protocol.Slot
	sl.RegID = 1
	out := sl.Handle(hs, 5, sentMessage(t, start), tokens, protocol.SlotEnv{Admit: true})
	recv := Record(Step{Role: protocol.RoleServer, RegID: 1, Time: 5, Input: InputRecv, Recv: sentMessage(t, start), RecvID: 77,
		Send: out.Send, SendID: 78, State: uint8(sl.State)})
	line := func(r trace.Record) string { b, _ := json.Marshal(r); return string(b) }
	// The server's receive has the earlier time, but must wait for the send.
	rep, err := ValidateTraces([]TraceInput{
		{Name: "server", R: strings.NewReader(string(hdr) + "\n" + line(recv) + "\n")},
		{Name: "client", R: strings.NewReader(string(hdr) + "\n" + line(start) + "\n")},
	})
	require.NoError(t, err)
	require.Equal(t, 1, rep.Matched)
	// In one file, a receive written before its send is no run.
	_, err = ValidateTraces([]TraceInput{{Name: "both", R: strings.NewReader(string(hdr) + "\n" + line(recv) + "\n" + line(start) + "\n")}})
	te, ok := errors.AsType[*TraceError](err)
	require.True(t, ok, "%v", err)
	require.True(t, te.Forbidden)
	require.Equal(t, 2, te.Line)
}

func sentMessage(t *testing.T, r trace.Record) protocol.Message {
	m, err := r.Sent.Message()
	require.NoError(t, err)
	return m
}

// A receive whose content differs from the send its id names is no
// delivery of that send: the validator lists it as an injection, at its
// line, with the reason (here a command's payload changed in transit,
// which the client does not check and so accepts).
func TestValidateFlagsAReceiveThatDiffersFromItsSend(t *testing.T) {
	_, files := tracedRun(t)
	last := len(files) - 1 // devices.jsonl
	in, line := edit(t, files, last,
		func(r *trace.Record) bool {
			return r.Recv != nil && r.Recv.Kind == "Command" && r.Err == "" && r.Recv.ID != 0
		},
		func(r *trace.Record) { r.Recv.Payload = "tampered" })
	rep, err := ValidateTraces(in)
	require.NoError(t, err)
	var found bool
	for _, inj := range rep.Injections {
		if inj.Line == line && inj.File == files[last].Name {
			found = true
			require.Contains(t, inj.Reason, "content differs from the send")
		}
	}
	require.True(t, found, "the altered receive at line %d is listed as an injection: %+v", line, rep.Injections)
}
