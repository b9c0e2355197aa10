package sim

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/protocol"
)

// A timer is enabled only when no pending deadline is earlier: after the
// Hello is delivered the server's pending session expires at 60 s while the
// client's retransmission is due at 1 s, and the server's timer must wait.
func TestTimersFireInDeadlineOrder(t *testing.T) {
	w := newTestWorld(t, protocol.Hardened(), WorldOptions{Clients: 1, Handshakes: 1})
	apply(t, w, Step{Kind: StepStart, Client: 0})
	for _, s := range w.Enabled(nil) {
		if s.Kind == StepDeliver {
			apply(t, w, s) // the Hello: the server opens a session
			break
		}
	}
	sl, ok := w.Server.Slot(1)
	require.True(t, ok)
	require.Greater(t, sl.Deadline(), w.Clients[0].Deadline, "the server's expiry is due after the client's retransmission")
	for _, s := range w.Enabled(nil) {
		require.NotEqual(t, StepServerTimer, s.Kind, "server timer due at %v offered while the client's is due at %v", sl.Deadline(), w.Clients[0].Deadline)
	}
}

// On random walks every enabled timer is due at the earliest pending
// deadline, and the clock never passes a pending deadline.
func TestTimeIsMonotoneOnRandomWalks(t *testing.T) {
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 1))
		w := newTestWorld(t, protocol.Hardened(), WorldOptions{Clients: 2, Handshakes: 4, Commands: 1,
			Limits: Limits{Drops: 2, Dups: 1}})
		var buf []Step
		for range 60 {
			next := w.NextDeadline()
			buf = w.Enabled(buf[:0])
			if len(buf) == 0 {
				break
			}
			for _, s := range buf {
				if s.Kind == StepClientTimer || s.Kind == StepServerTimer {
					require.Equal(t, max(w.Now, next), s.At, "seed %d: %v is not due first (next deadline %v)", seed, s, next)
				} else {
					require.LessOrEqual(t, s.At, next, "seed %d: %v happens after a pending deadline %v", seed, s, next)
				}
			}
			apply(t, w, buf[rng.IntN(len(buf))])
		}
	}
}
