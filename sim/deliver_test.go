package sim

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/protocol"
)

// quiet is a fault-free run in which no client re-keys while its command is
// on the way: 50 clients, one handshake every 20 virtual seconds, one
// command 100 ms after each verification. Every command issued must be
// executed; about one in nine is pushed before its session's Confirm2
// arrives (delays 10..200 ms each).
func quiet(p protocol.Profile) Config {
	cfg := DefaultConfig()
	cfg.Profile, cfg.Clients, cfg.Handshakes, cfg.Rate = p, 50, 50, 0.001
	return cfg
}

// Without faults hardened delivers every command: a Command that overtakes
// its Confirm2 is taken for it (CommandConfirms). Before that knob, this
// run lost the overtaking commands, refused with "no verified session".
func TestNoFaultRunDeliversEveryCommand(t *testing.T) {
	rep, err := Run(quiet(protocol.Hardened()), RunOptions{})
	require.NoError(t, err)
	require.Empty(t, rep.Violations)
	require.True(t, rep.DeliverChecked)
	require.Equal(t, uint64(50), rep.CommandsIssued)
	require.Equal(t, rep.CommandsIssued, rep.CommandsExecuted, "every command issued is executed")
	require.Zero(t, rep.CommandsLeft)

	// The default run re-keys clients while their commands are on the
	// way: those commands reach a client that left their session, which
	// DELIVER does not count, and every other one is executed.
	rep, err = Run(DefaultConfig(), RunOptions{})
	require.NoError(t, err)
	require.Empty(t, rep.Violations)
	require.True(t, rep.DeliverChecked)
	require.NotZero(t, rep.CommandsLeft)
	require.Equal(t, rep.CommandsIssued, rep.CommandsExecuted+rep.CommandsLeft)
}

// The patent, and hardened without CommandConfirms, lose the commands that
// overtake Confirm2: DELIVER is violated at the end of the run, and the
// trace replays to the same violation.
func TestOvertakingCommandIsLostWithoutCommandConfirms(t *testing.T) {
	off := protocol.Hardened()
	off.CommandConfirms = false
	for _, p := range []protocol.Profile{protocol.Patent(), off} {
		var trace bytes.Buffer
		rep, err := Run(quiet(p), RunOptions{Trace: &trace})
		require.NoError(t, err)
		require.Len(t, rep.Violations, 1, p.Name)
		v := rep.Violations[0]
		require.Equal(t, protocol.Deliver, v.Property, p.Name)
		require.Equal(t, rep.Steps, v.Step, "%s: found when the run ends", p.Name)
		require.Contains(t, v.Reason, "in AwaitConfirm2, was refused ("+protocol.ErrNotVerified.Error()+") and never executed")
		require.Less(t, rep.CommandsExecuted, rep.CommandsIssued)
		require.NotEmpty(t, rep.Replay)

		got, err := Replay(&trace, "trace.jsonl", ReplayOptions{})
		require.NoError(t, err, p.Name)
		require.Equal(t, rep.Violations, got.Violations, "%s: replay finds the same violation", p.Name)
	}
}

// DELIVER is asked only of a run without loss and without an adversary:
// the first message lost turns it off. (Checked, this run would violate
// it: without CommandConfirms its overtaking commands are refused.)
func TestDeliverNotAskedOfALossyRun(t *testing.T) {
	p := protocol.Hardened()
	p.CommandConfirms = false
	cfg := quiet(p)
	cfg.Push.Loss = 0.1
	rep, err := Run(cfg, RunOptions{})
	require.NoError(t, err)
	require.False(t, rep.DeliverChecked)
	require.Empty(t, rep.Violations)
	require.Less(t, rep.CommandsExecuted, rep.CommandsIssued)
}

// With two commands a session, the second may overtake the first on the
// push platform. Without CommandWindow the client executes it, then
// refuses the first as a repeat (CommandSeq alone runs only numbers above
// the last one run), and DELIVER is violated; hardened runs both.
func TestReorderedCommandsNeedCommandWindow(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Clients, cfg.Handshakes, cfg.Commands, cfg.Seed = 1, 1, 2, 7
	rep, err := Run(cfg, RunOptions{})
	require.NoError(t, err)
	require.Empty(t, rep.Violations)
	require.Equal(t, uint64(2), rep.CommandsExecuted)

	cfg.Profile.CommandWindow = false
	var trace bytes.Buffer
	rep, err = Run(cfg, RunOptions{Trace: &trace})
	require.NoError(t, err)
	require.Len(t, rep.Violations, 1)
	v := rep.Violations[0]
	require.Equal(t, protocol.Deliver, v.Property)
	require.Contains(t, v.Reason, "command 1 to RegID 1")
	require.Contains(t, v.Reason, protocol.ErrRepeatedSeq.Error())
	got, err := Replay(&trace, "trace.jsonl", ReplayOptions{})
	require.NoError(t, err)
	require.Equal(t, rep.Violations, got.Violations)
}
