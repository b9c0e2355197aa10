package sim

import (
	"github.com/verishake/verishake/adversary"
)

// MaxCaptured is how many envelopes a simulated adversary remembers for
// replay: the most recent ones, so that a long run's memory stays flat.
// At the default load (250 handshakes a virtual second, about seven
// messages each) that is the last half second or so of traffic, which
// still holds the Commands and Confirm1s of sessions that are live — what
// a replay needs to hurt.
const MaxCaptured = 1024

// The strategies of `verishake sim --adversary` (README.md), from
// package adversary, which sits below sim and so cannot register itself.
func init() {
	for _, s := range []adversary.Strategy{adversary.Replay, adversary.Forge, adversary.Impersonate, adversary.Flood, adversary.All} {
		RegisterAdversary(s.String(), func(p AdversaryParams) (Adversary, error) {
			return adversary.New(s, p.Clients, p.Insider, p.Profile.TokenBits, MaxCaptured), nil
		})
	}
}

// *adversary.Adversary must keep fitting the hooks the world calls.
var (
	_ Adversary = (*adversary.Adversary)(nil)
	_ Guesser   = (*adversary.Adversary)(nil)
	_ Outcomer  = (*adversary.Adversary)(nil)
)
