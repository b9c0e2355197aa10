package transport

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/sim"
	"github.com/verishake/verishake/trace"
)

// A push the device never received is drawn lost where it was sent, in
// replay's vocabulary; what arrived is drawn when it arrived.
func TestSequenceDiagramDrawsLostPushes(t *testing.T) {
	msg := func(id uint64, from, kind string) *trace.Msg {
		return &trace.Msg{ID: id, From: from, Kind: kind, RegID: 1, Tc: "0123456789abcdef0123456789abcdef", Ts: "fedcba9876543210fedcba9876543210"}
	}
	step := func(machine, kind string, recv, sent *trace.Msg) *traceLine {
		return &traceLine{rec: trace.Record{Type: trace.LineStep, Step: kind, Machine: machine, RegID: 1, Recv: recv, Sent: sent}}
	}
	r := &ValidationReport{order: []*traceLine{
		step("client", sim.StepStart.String(), nil, msg(1, "client", "Hello")),
		step("server", sim.StepDeliver.String(), msg(1, "client", "Hello"), msg(2, "server", "Validation")),
		step("client", sim.StepClientTimer.String(), nil, msg(3, "client", "Hello")),
		step("server", sim.StepDeliver.String(), msg(3, "client", "Hello"), msg(4, "server", "Validation")),
		step("client", sim.StepDeliver.String(), msg(4, "server", "Validation"), nil),
	}}
	d := r.SequenceDiagram(1)
	require.True(t, strings.HasPrefix(d, "sequenceDiagram\n    participant C as Client 1 (device)\n    participant S as Server\n"), d)
	require.Equal(t, 1, strings.Count(d, "    S-xC: Validation Tc=12345678 Ts=fedcba98 (lost)\n"), d)
	require.Equal(t, 1, strings.Count(d, "    S->>C: Validation Tc=12345678 Ts=fedcba98\n"), d)
	require.Equal(t, 2, strings.Count(d, "    C->>S: Hello Tc=12345678"), d)
	require.Contains(t, d, "Note over C: timer - re-send Hello")
	// The lost push comes before the retransmission it caused.
	require.Less(t, strings.Index(d, "(lost)"), strings.Index(d, "re-send"))
}
