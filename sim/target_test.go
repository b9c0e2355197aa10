package sim

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/trace"
)

// patentDoubleVerify is the patent's shortest AUTH-S counterexample: the
// network duplicates the Confirm1 and the server verifies twice.
func patentDoubleVerify(t *testing.T) (Config, []Step) {
	cfg := DefaultConfig()
	cfg.Profile, cfg.Clients, cfg.Handshakes, cfg.Seed = protocol.Patent(), 1, 1, 0
	w := newTestWorld(t, cfg.Profile, WorldOptions{Clients: 1, Handshakes: 1, Limits: Limits{Dups: 1}})
	var steps []Step
	record := func(s Step) { steps = append(steps, s); apply(t, w, s) }
	pick := func(kind StepKind, msg protocol.Kind) {
		for _, s := range w.Enabled(nil) {
			if s.Kind == kind && (msg == 0 || w.Message(s.Slot).Kind == msg) {
				record(s)
				return
			}
		}
		t.Fatalf("no %v of a %v", kind, msg)
	}
	record(Step{Kind: StepStart, Client: 0})
	pick(StepDeliver, protocol.Hello)
	pick(StepDeliver, protocol.Validation)
	pick(StepDup, protocol.Confirm1)
	pick(StepDeliver, protocol.Confirm1)
	pick(StepDeliver, protocol.Confirm1)
	return cfg, steps
}

func TestTargetedTraceReproducesItsProperty(t *testing.T) {
	cfg, steps := patentDoubleVerify(t)
	var b bytes.Buffer
	viol, err := TraceSteps(&b, cfg, steps, trace.Target{Property: protocol.AuthS})
	require.NoError(t, err)
	require.Equal(t, protocol.AuthS, viol[0].Property)
	out, err := Replay(bytes.NewReader(b.Bytes()), "cex.jsonl", ReplayOptions{})
	require.NoError(t, err)
	require.Equal(t, protocol.AuthS, out.Violations[0].Property)

	// The same steps claimed for another property do not reproduce.
	forged := strings.Replace(b.String(), `"target":{"property":"AUTH-S"}`, `"target":{"property":"CMD"}`, 1)
	require.NotEqual(t, b.String(), forged)
	_, err = Replay(strings.NewReader(forged), "cex.jsonl", ReplayOptions{})
	require.ErrorIs(t, err, ErrDiverged)
	require.Contains(t, err.Error(), "written for CMD")

	// Steps that violate nothing are no counterexample.
	_, err = TraceSteps(&bytes.Buffer{}, cfg, steps[:3], trace.Target{Property: protocol.AuthS})
	require.ErrorIs(t, err, ErrNotReproduced)
}
