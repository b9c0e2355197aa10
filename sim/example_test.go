package sim_test

import (
	"fmt"

	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/sim"
)

// Simulate 10,000 hardened handshakes over a push channel that loses 20%
// of the messages each way, with the properties monitored on every step.
// A run is a function of its seed: the same seed prints the same lines.
func ExampleRun() {
	cfg := sim.DefaultConfig()
	cfg.Profile = protocol.Hardened()
	cfg.Seed = 7
	cfg.Upstream.Loss, cfg.Push.Loss = 0.2, 0.2
	rep, err := sim.Run(cfg, sim.RunOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Println("started", rep.Handshakes, "verified", rep.Verified, "failed", rep.Failed)
	fmt.Println("violations", len(rep.Violations))
	// Output:
	// started 10000 verified 9998 failed 2
	// violations 0
}
