package nspk_test

import (
	"context"
	"fmt"

	"github.com/verishake/verishake/engine"
	"github.com/verishake/verishake/examples/nspk"
)

// Lowe's attack on the original protocol: in Lowe's setting (A starts one
// run, with B or with I; B answers one) the explorer's shortest
// counterexample to the responder's agreement is the man in the middle of
// his 1996 paper. A runs the protocol with I; I replays A's nonce to B as
// A, and lets A decrypt B's answer for it; B ends believing it spoke with
// A.
func Example() {
	m, err := nspk.New(nspk.Config{})
	if err != nil {
		panic(err)
	}
	r, err := engine.Search(context.Background(), m, engine.Config{})
	if err != nil {
		panic(err)
	}
	cex, _ := r.Violated(nspk.ResponderAgreement)
	fmt.Printf("%s %s in %d steps: %s\n\n", cex.Property, r.Verdict(cex.Property), cex.Path(), cex.Reason)
	fmt.Print(nspk.Diagram(cex.Actions))
	// Output:
	// AGREE-RESPONDER violated in 4 steps: B committed as responder with A on (Na, Nb), and A never ran as initiator with B on those nonces
	//
	// A                     I                     B
	// |----{Na, A}pk(I)---->|                     |   A -> I : {Na, A}pk(I)
	// |                     |----{Na, A}pk(B)---->|   I(A) -> B : {Na, A}pk(B)
	// |                     |<---{Na, Nb}pk(A)----|   B -> I(A) : {Na, Nb}pk(A)
	// |<---{Na, Nb}pk(A)----|                     |   I -> A : {Na, Nb}pk(A)
	// |----{Nb}pk(I)------->|                     |   A -> I : {Nb}pk(I)
	// |                     |----{Nb}pk(B)------->|   I(A) -> B : {Nb}pk(B)
}
