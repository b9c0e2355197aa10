package variants_test

import (
	"context"
	"fmt"

	"github.com/verishake/verishake/adversary"
	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/sim/explore"
)

// rememberNewestTs is a designer's variant, written in their own package:
// the server remembers, server-wide, the newest Ts it issued, and takes a
// Confirm1 carrying it as well as the RegID's own pending Ts (a "fast
// path" for the client that just said Hello).
var rememberNewestTs = protocol.Variant{
	Name:    "newest-ts",
	Breaks:  protocol.AuthS,
	Summary: "the server also accepts a Confirm1 carrying the newest Ts it issued",
	Hooks: protocol.Hooks{
		// Every new session's Ts, kept in the server-wide hook state.
		HelloTs: func(_ protocol.Slot, st *protocol.HookState, _ protocol.Message, ts protocol.Token) protocol.Token {
			st.Server.Tokens[0] = ts
			return ts
		},
		Confirm1Ts: func(_ protocol.Slot, st *protocol.HookState, m protocol.Message, ok bool) bool {
			return ok || m.Ts.Equal(st.Server.Tokens[0])
		},
	},
}

// A behavioural variant from outside protocol/, checked by the explorer at
// the bounds `verishake variants --check` gives unbound-regid: the insider
// opens a session of its own, and its fresh Ts verifies the victim's.
func Example() {
	p := rememberNewestTs.Of(protocol.Hardened())
	p.Retries = 1 // a bound on the search, as check's --retries
	rep, err := explore.Run(context.Background(), explore.Config{
		Handshake: p.MustCompile(),
		Clients:   1, Sessions: 1, Injects: 2,
		Adversary:    adversary.NewExplorer(adversary.Default(), 1, 2), // RegID 2 is the insider's
		RenameTokens: true,
		StopOn:       []string{rememberNewestTs.Breaks},
	})
	if err != nil {
		panic(err)
	}
	cex, ok := rep.Violated(rememberNewestTs.Breaks)
	fmt.Println(p.Name, "breaks", rememberNewestTs.Breaks+":", ok)
	fmt.Printf("%s in %d steps:\n", cex.Property, len(cex.Steps))
	for _, s := range cex.Steps {
		fmt.Println(" ", s)
	}
	// Output:
	// hardened+newest-ts breaks AUTH-S: true
	// AUTH-S in 5 steps:
	//   inject Hello{RegID:1 Tc:#1099511627776} at 0
	//   deliver slot 0 (msg 1) at 0
	//   insider sends Hello{RegID:2 Tc:#1099511627776} at 0
	//   inject Confirm1{RegID:1 Ts:#2} at 0
	//   deliver slot 1 (msg 5) at 0
}
