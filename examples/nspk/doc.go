// Package nspk is the Needham–Schroeder public-key protocol as a model for
// the engine: the explorer's test against a result published in 1996 that
// nobody here wrote (Gavin Lowe, "Breaking and fixing the Needham-Schroeder
// public-key protocol using FDR", TACAS 1996).
//
// The honest agents A and B run bounded numbers of initiator and responder
// runs (Config); the intruder I is a registered agent with a key pair of its
// own and is also the network, in the Dolev–Yao sense: every message an
// honest agent sends goes into I's knowledge, and every message an honest
// agent receives is one I can build from it. The protocol's three messages
// are
//
//  1. A -> B : {Na, A}pk(B)
//  2. B -> A : {Na, Nb}pk(A)      Lowe's fix: {Na, Nb, B}pk(A)
//  3. A -> B : {Nb}pk(B)
//
// and the properties checked are injective agreement for either role and
// the secrecy of the nonces of runs between honest agents. On the original
// protocol the explorer finds Lowe's man-in-the-middle attack as the
// shortest counterexample to the responder's agreement; on the fixed one
// every property holds. Diagram draws a counterexample the way the Example
// prints Lowe's attack, and `go run ./examples/nspk/lowe` checks any bounds
// from the command line. docs/nspk.md has the attack's diagram and the
// verdicts at each bound.
package nspk
