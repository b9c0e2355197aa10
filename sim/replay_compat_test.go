package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/protocol"
)

// legacyReason is how a verishake before the protocol's errors took their
// package prefix, and before a table refusal named its row, wrote a reason.
func legacyReason(s string) string {
	s = strings.TrimPrefix(s, "protocol: ")
	if unexpected := strings.TrimPrefix(protocol.ErrUnexpected.Error(), "protocol: "); strings.HasPrefix(s, unexpected) {
		return unexpected
	}
	return s
}

// rewriteReasons applies f to the "err" field of every step line of a
// trace and reports how many it changed.
func rewriteReasons(t *testing.T, trace []byte, f func(string) string) ([]byte, int) {
	t.Helper()
	var out bytes.Buffer
	changed := 0
	for _, line := range bytes.Split(bytes.TrimSpace(trace), []byte("\n")) {
		d := json.NewDecoder(bytes.NewReader(line))
		d.UseNumber()
		var m map[string]any
		require.NoError(t, d.Decode(&m))
		if e, ok := m["err"].(string); ok && f(e) != e {
			m["err"] = f(e)
			changed++
		}
		b, err := json.Marshal(m)
		require.NoError(t, err)
		out.Write(b)
		out.WriteByte('\n')
	}
	return out.Bytes(), changed
}

// A trace written before the reasons changed still replays; a reason that
// differs in substance still does not.
func TestReplayReadsReasonsWrittenBeforeThePrefix(t *testing.T) {
	// verishake sim --clients 2 --handshakes 4 --loss 0.3 --dup 0.2
	// --corrupt 0.2 --commands 1 --seed 3: a run with rejections of
	// several kinds.
	cfg := DefaultConfig()
	cfg.Clients, cfg.Handshakes, cfg.Commands, cfg.Seed = 2, 4, 1, 3
	for _, ch := range []*Channel{&cfg.Upstream, &cfg.Push} {
		ch.Loss, ch.Dup, ch.Corrupt = 0.3, 0.2, 0.2
	}
	var trace bytes.Buffer
	_, err := Run(cfg, RunOptions{Trace: &trace})
	require.NoError(t, err)
	require.True(t, strings.Contains(trace.String(), `"err":"protocol: `), "the run has reasons to rewrite")

	old, changed := rewriteReasons(t, trace.Bytes(), legacyReason)
	require.Positive(t, changed)
	_, err = Replay(bytes.NewReader(old), "old.jsonl", ReplayOptions{})
	require.NoError(t, err)

	other, changed := rewriteReasons(t, trace.Bytes(), func(s string) string {
		if s == protocol.ErrDuplicate.Error() {
			return legacyReason(protocol.ErrExpired.Error())
		}
		return s
	})
	require.Positive(t, changed, "the run has a duplicate to rewrite")
	_, err = Replay(bytes.NewReader(other), "other.jsonl", ReplayOptions{})
	require.True(t, errors.Is(err, ErrDiverged), "%v", err)
}

// A table refusal, which a trace used to record as a bare ErrUnexpected,
// is the same verdict as that; other reasons are not.
func TestSameReason(t *testing.T) {
	refusal := protocol.NoTransitionError{Machine: "client", State: protocol.AwaitValidation, Event: protocol.Start}.Error()
	require.True(t, sameReason(legacyReason(protocol.ErrUnexpected.Error()), refusal))
	require.True(t, sameReason(refusal, refusal))
	require.True(t, sameReason("session expired", protocol.ErrExpired.Error()))
	require.False(t, sameReason("session expired", protocol.ErrDuplicate.Error()))
	require.False(t, sameReason(legacyReason(protocol.ErrUnexpected.Error()), protocol.ErrDuplicate.Error()))
}
