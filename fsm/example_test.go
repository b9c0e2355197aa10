package fsm_test

import (
	"errors"
	"fmt"

	"github.com/verishake/verishake/fsm"
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

// A package-level table: MustCompile turns a bad spec into a panic at init.
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

func ExampleInstance_Fire() {
	in := turnstile.Start()
	fmt.Println(in.State(), in.Permitted())

	_ = in.Fire(Coin)
	fmt.Println(in.State(), in.Permitted())

	// A second coin has no transition: an error, and the state stays.
	err := in.Fire(Coin)
	fmt.Println(in.State(), err)

	var nt *fsm.NoTransitionError[Turnstile, Input]
	if errors.As(err, &nt) {
		fmt.Println(nt.State, nt.Event, errors.Is(err, fsm.ErrNoTransition))
	}

	_ = in.Fire(Push)
	fmt.Println(in.State())
	// Output:
	// Locked [Coin Push]
	// Unlocked [Push]
	// Unlocked fsm: machine "turnstile": no transition from Unlocked on Coin
	// Unlocked Coin true
	// Locked
}

func ExampleMachine_Mermaid() {
	cur := Unlocked
	fmt.Print(turnstile.Mermaid(fsm.ExportOptions[Turnstile]{Current: &cur}))
	// Output:
	// stateDiagram-v2
	//     [*] --> Locked
	//     Locked --> Unlocked: Coin
	//     Locked --> Locked: Push
	//     Unlocked --> Locked: Push
	//     classDef current font-weight:bold,stroke-width:3px,fill:#bde0fe
	//     class Unlocked current
}
