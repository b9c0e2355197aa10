package explore

import (
	"fmt"

	"github.com/verishake/verishake/protocol"
)

// checkState checks the properties of a state rather than of a step:
// deadlock freedom (reported as LIVE) and AGREE, both judged by the world
// (sim.World.Deadlocked, sim.World.Disagreement) so that a replay re-judges
// them with the same code. The state is the worker's base world; i is its
// index in the level.
func (wk *worker) checkState(i int) {
	e, w := wk.e, wk.base
	if !e.foundBefore(protocol.Live) && !wk.has(protocol.Live) {
		if c, stuck := w.Deadlocked(); stuck {
			wk.record(violation{property: protocol.Live, parent: i, step: -1,
				reason: fmt.Sprintf("client %d waits in %v with nothing in flight and no timer set: it waits for ever", c+1, w.Clients[c].State)})
		}
	}
	if e.cfg.Agree && !e.foundBefore(protocol.Agree) && !wk.has(protocol.Agree) && w.AgreeApplies(e.retries) {
		wk.cont.CopyFrom(w)
		if reason, bad := wk.cont.Disagreement(&wk.contSteps, nil); bad {
			wk.record(violation{property: protocol.Agree, parent: i, step: -1, reason: reason})
		}
	}
}
