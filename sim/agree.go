package sim

import (
	"fmt"

	"github.com/verishake/verishake/protocol"
)

// The state properties the explorer judges and a replay re-judges: AGREE,
// through the fault-free continuation, and deadlock freedom (LIVE). They
// live here, beside the world, so that an explorer's counterexample is
// re-checked by the very code that found it.

// MaxContinuation bounds a fault-free continuation. Every handshake ends
// within its retries and lifetime, far sooner; hitting it is reported.
const MaxContinuation = 512

// AgreeApplies reports whether AGREE is asked of w: not once some honest
// client has given up, or outlived its handshake's lifetime, or sent its
// last try (Tries above the profile's Retries) on a path that has lost a
// message (a drop, or a corruption, which the receiver discards). The
// last message may always be lost (two generals), and a message held back
// past the lifetime is as good as lost. On a path that lost nothing,
// every message sent is still in flight or delivered, and the
// continuation delivers it: AGREE is asked.
//
// A profile that never re-sends (Retries 0) has no last try to excuse: it
// is held to agree after a loss, which it cannot (the no-retransmit
// variant's flaw). capped says its Retries are the explorer's cap, below
// the profile's own (check's --retries): a client at the cap would re-send
// in the real protocol, so it is excused even at a cap of 0.
func (w *World) AgreeApplies(capped bool) bool {
	retries := w.h.Profile().Retries
	lost := w.Counters.Steps[StepDrop] > 0 || w.Counters.Steps[StepCorrupt] > 0
	excuse := lost && (retries > 0 || capped)
	for i := range w.Clients {
		c := &w.Clients[i]
		if c.State == protocol.ClientFailed || excuse && int(c.Tries) > retries ||
			awaiting(c.State) && w.Now >= c.Expires {
			return false
		}
	}
	return true
}

// Disagreement runs the fault-free continuation on w, which it changes:
// every message in flight delivered (the first in flight first), timers
// fired only once nothing is in flight (the earliest first), no adversary
// and no bound on retransmissions (Limits.Retransmits is lifted),
// until nothing is in flight and no client is in a handshake. It then
// requires that each client that started a handshake and the server agree
// on it: the client Verified on the Ts of the last session of that
// handshake the server verified, or the client not Verified and the server
// having verified none. It returns why not, and whether they disagree. buf
// is scratch for the enabled steps; the continuation's steps are appended
// to *cont when cont is not nil.
func (w *World) Disagreement(buf *[]Step, cont *[]Step) (string, bool) {
	var r Result
	w.opts.Limits.Retransmits = 0 // the continuation re-sends as the protocol does
	for n := 0; n < MaxContinuation && (w.live > 0 || w.anyAwaiting()); n++ {
		*buf = w.Enabled((*buf)[:0])
		pick, ok := faultFree(*buf)
		if !ok {
			break
		}
		if err := w.ApplyInto(&pick, &r); err != nil {
			panic(fmt.Sprintf("sim: enabled step %v refused: %v", pick, err))
		}
		if cont != nil {
			*cont = append(*cont, pick)
		}
	}
	if w.live > 0 || w.anyAwaiting() {
		return "a handshake never ends, even with every message delivered and every timer fired", true
	}
	for i := range w.Clients {
		c := &w.Clients[i]
		if c.State == protocol.ClientIdle {
			continue
		}
		ts, server := w.ServerVerified(i)
		switch client := c.State == protocol.ClientVerified; {
		case client && server && !ts.Equal(c.Ts):
			return fmt.Sprintf("with no further fault, client %d ends Verified on Ts=%v while the server verified Ts=%v", i+1, c.Ts, ts), true
		case client != server:
			verb := "never verified"
			if server {
				verb = "verified"
			}
			return fmt.Sprintf("with no further fault, client %d ends %v while the server %s its session", i+1, c.State, verb), true
		}
	}
	return "", false
}

// faultFree picks the continuation's next step: the first delivery, else
// the first timer (Enabled offers only the timers due first).
func faultFree(steps []Step) (Step, bool) {
	timer, ok := Step{}, false
	for _, s := range steps {
		switch s.Kind {
		case StepDeliver:
			return s, true
		case StepClientTimer, StepServerTimer:
			if !ok {
				timer, ok = s, true
			}
		}
	}
	return timer, ok
}

func (w *World) anyAwaiting() bool {
	for i := range w.Clients {
		if awaiting(w.Clients[i].State) {
			return true
		}
	}
	return false
}

// Deadlocked finds a client in a handshake that nothing can move on: no
// message in flight and no timer set anywhere. It returns the client's
// index.
func (w *World) Deadlocked() (int, bool) {
	if w.live > 0 || w.NextDeadline() != protocol.Never {
		return 0, false
	}
	for i := range w.Clients {
		if awaiting(w.Clients[i].State) {
			return i, true
		}
	}
	return 0, false
}
