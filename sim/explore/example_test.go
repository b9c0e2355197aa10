package explore_test

import (
	"context"
	"fmt"

	"github.com/verishake/verishake/adversary"
	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/sim/explore"
)

// Explore the patent's handshake with one client and one lost message:
// the shortest counterexample to each property it violates.
func ExampleRun() {
	rep, err := explore.Run(context.Background(), explore.Config{
		Handshake: protocol.Patent().MustCompile(),
		Clients:   1, Sessions: 1, Losses: 1, Agree: true,
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(rep.States, "states, complete:", rep.Complete)
	for _, c := range rep.Counterexamples {
		fmt.Printf("%s in %d steps:", c.Property, len(c.Steps))
		for _, s := range c.Steps {
			fmt.Printf(" %v;", s.Kind)
		}
		fmt.Println()
	}
	// Output:
	// 10 states, complete: true
	// LIVE in 2 steps: start; drop;
	// AGREE in 2 steps: start; drop;
}

// The hardened profile against the default adversary, one loss and one
// injection, with the sound reductions on: every property holds.
func ExampleRun_hardened() {
	p := protocol.Hardened()
	p.Retries = 1 // a bound on the search, as check's --retries
	rep, err := explore.Run(context.Background(), explore.Config{
		Handshake: p.MustCompile(),
		Clients:   1, Sessions: 1, Commands: 1, Losses: 1, Injects: 1, Agree: true,
		Adversary:    adversary.NewExplorer(adversary.Default(), 1, 2),
		RenameTokens: true, Symmetry: true,
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("complete:", rep.Complete, "violations:", len(rep.Counterexamples))
	// Output: complete: true violations: 0
}
