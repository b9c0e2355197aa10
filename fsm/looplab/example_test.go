package looplab_test

import (
	"fmt"

	"github.com/verishake/verishake/fsm"
	"github.com/verishake/verishake/fsm/looplab"
)

type Turnstile uint8

const (
	Locked Turnstile = iota
	Unlocked
)

func (t Turnstile) String() string { return [...]string{"Locked", "Unlocked"}[t] }

type Input uint8

const (
	Coin Input = iota
	Push
)

func (i Input) String() string { return [...]string{"Coin", "Push"}[i] }

var turnstile = fsm.MustCompile(fsm.Spec[Turnstile, Input]{
	Name:    "turnstile",
	Initial: Locked,
	States:  []Turnstile{Locked, Unlocked},
	Events:  []Input{Coin, Push},
	Transitions: []fsm.Transition[Turnstile, Input]{
		{From: Locked, Event: Coin, To: Unlocked},
		{From: Locked, Event: Push, To: Locked},
		{From: Unlocked, Event: Push, To: Locked},
	},
})

// Pushing a locked turnstile is a self-loop, which looplab's own Event
// reports as an error; Fire reports it as accepted. A second coin has no
// row, and Fire gives the error package fsm gives.
func ExampleFire() {
	f, err := looplab.New(turnstile, Locked)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, in := range []Input{Push, Coin, Coin} {
		accepted, err := looplab.Fire(turnstile, f, in)
		fmt.Println(in, accepted, f.Current(), err)
	}
	// Output:
	// Push true Locked <nil>
	// Coin true Unlocked <nil>
	// Coin false Unlocked fsm: machine "turnstile": no transition from Unlocked on Coin
}
