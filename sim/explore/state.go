package explore

import (
	"fmt"

	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/sim"
)

// maxContinuation bounds a fault-free continuation. Every handshake ends
// within its retries and lifetime, far sooner; hitting it is reported.
const maxContinuation = 512

// checkState checks the properties of a state rather than of a step:
// deadlock freedom (reported as LIVE) and AGREE. The state is the worker's
// base world; i is its index in the level.
func (wk *worker) checkState(i int) {
	e, w := wk.e, wk.base
	if !e.foundBefore(protocol.Live) && !wk.has(protocol.Live) {
		if c, stuck := deadlocked(w); stuck {
			wk.record(violation{property: protocol.Live, parent: i, step: -1,
				reason: fmt.Sprintf("client %d waits in %v with nothing in flight and no timer set: it waits for ever", c+1, w.Clients[c].State)})
		}
	}
	if e.cfg.Agree && !e.foundBefore(protocol.Agree) && !wk.has(protocol.Agree) && !retriesUsedUp(w, e.retries) {
		wk.cont.CopyFrom(w)
		if reason, bad := agree(wk.cont, &wk.contSteps, nil); bad {
			wk.record(violation{property: protocol.Agree, parent: i, step: -1, reason: reason})
		}
	}
}

func awaiting(s protocol.ClientState) bool {
	return s == protocol.AwaitValidation || s == protocol.AwaitConfirm2
}

// deadlocked finds a client in a handshake that nothing can move on: no
// message in flight and no timer set anywhere.
func deadlocked(w *sim.World) (int, bool) {
	if w.InFlight() > 0 {
		return 0, false
	}
	stuck := -1
	for i := range w.Clients {
		c := &w.Clients[i]
		if c.Deadline != protocol.Never {
			return 0, false
		}
		if stuck < 0 && awaiting(c.State) {
			stuck = i
		}
	}
	if stuck < 0 {
		return 0, false
	}
	timer := false
	w.Server.EachSlot(func(sl *protocol.Slot) {
		timer = timer || sl.Deadline() != protocol.Never
	})
	return stuck, !timer
}

// retriesUsedUp reports whether some honest client has given up, sent its
// last retransmission, or outlived its handshake's lifetime: AGREE is not
// asked of such states, since with finite retries the last message may
// always be lost (two generals), and a message held back past the lifetime
// is as good as lost.
func retriesUsedUp(w *sim.World, retries int) bool {
	for i := range w.Clients {
		c := &w.Clients[i]
		if c.State == protocol.ClientFailed || retries > 0 && int(c.Tries) > retries ||
			awaiting(c.State) && w.Now >= c.Expires {
			return true
		}
	}
	return false
}

// agree runs the fault-free continuation on w, which it changes: every
// message in flight delivered, timers fired only once the network is
// quiet, no adversary, until no client is in a handshake. It then requires
// that each client that started one ended Verified exactly when the server
// verified that handshake's session, and says why not. buf is scratch for
// the enabled steps; the continuation's steps are appended to *cont when
// cont is not nil.
func agree(w *sim.World, buf *[]sim.Step, cont *[]sim.Step) (string, bool) {
	var r sim.Result
	for n := 0; n < maxContinuation && anyAwaiting(w); n++ {
		*buf = w.Enabled((*buf)[:0])
		pick, ok := faultFree(*buf)
		if !ok {
			break
		}
		if err := w.ApplyInto(&pick, &r); err != nil {
			panic(fmt.Sprintf("explore: enabled step %v refused: %v", pick, err))
		}
		if cont != nil {
			*cont = append(*cont, pick)
		}
	}
	if anyAwaiting(w) {
		return "a handshake never ends, even with every message delivered and every timer fired", true
	}
	for i := range w.Clients {
		c := &w.Clients[i]
		if c.State == protocol.ClientIdle {
			continue
		}
		client, server := c.State == protocol.ClientVerified, w.ServerVerified(i)
		if client != server {
			return fmt.Sprintf("with no further fault, client %d ends %v while the server %s its session", i+1, c.State, verb(server)), true
		}
	}
	return "", false
}

func verb(verified bool) string {
	if verified {
		return "verified"
	}
	return "never verified"
}

func anyAwaiting(w *sim.World) bool {
	for i := range w.Clients {
		if awaiting(w.Clients[i].State) {
			return true
		}
	}
	return false
}

// faultFree picks the continuation's next step: the first delivery, else
// the earliest timer.
func faultFree(steps []sim.Step) (sim.Step, bool) {
	best, ok := sim.Step{}, false
	for _, s := range steps {
		switch s.Kind {
		case sim.StepDeliver:
			return s, true
		case sim.StepClientTimer, sim.StepServerTimer:
			if !ok || s.At < best.At {
				best, ok = s, true
			}
		}
	}
	return best, ok
}
