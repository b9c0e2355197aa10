package engine_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/verishake/verishake/engine"
)

// jugs is the water-jug puzzle of the film Die Hard 3, the first example
// of Lamport's TLA+ course: with a 3- and a 5-gallon jug, a tap and a
// drain, measure exactly 4 gallons. Written as the invariant "the big jug
// never holds 4", its shortest counterexample is the puzzle's answer.
type jugs struct{}

type pour struct{ small, big int }

type action uint8

const (
	fillSmall action = iota
	fillBig
	emptySmall
	emptyBig
	smallToBig
	bigToSmall
)

var actionNames = [...]string{"fill small", "fill big", "empty small", "empty big", "small to big", "big to small"}

func (jugs) Init(s *pour) { *s = pour{} }

func (jugs) Actions(_ *pour, dst []action) []action {
	return append(dst, fillSmall, fillBig, emptySmall, emptyBig, smallToBig, bigToSmall)
}

func (jugs) Apply(s *pour, a *action, next *pour) {
	*next = *s
	switch *a {
	case fillSmall:
		next.small = 3
	case fillBig:
		next.big = 5
	case emptySmall:
		next.small = 0
	case emptyBig:
		next.big = 0
	case smallToBig:
		moved := min(s.small, 5-s.big)
		next.small, next.big = s.small-moved, s.big+moved
	case bigToSmall:
		moved := min(s.big, 3-s.small)
		next.small, next.big = s.small+moved, s.big-moved
	}
}

func (jugs) Encode(dst []byte, s *pour) []byte { return append(dst, byte(s.small), byte(s.big)) }

func (jugs) Decode(src []byte, s *pour) error {
	if len(src) != 2 {
		return fmt.Errorf("jugs: %d bytes, want 2", len(src))
	}
	*s = pour{int(src[0]), int(src[1])}
	return nil
}

func (jugs) Properties() []engine.Property[pour, action] {
	return []engine.Property[pour, action]{{
		Name: "NOT-FOUR",
		State: func(s *pour) error {
			if s.big == 4 {
				return errors.New("the big jug holds 4 gallons")
			}
			return nil
		},
	}}
}

// The explorer finds the shortest way to 4 gallons: six pours.
func ExampleSearch() {
	r, err := engine.Search(context.Background(), jugs{}, engine.Config{})
	if err != nil {
		panic(err)
	}
	cex, _ := r.Violated("NOT-FOUR")
	fmt.Println(r.Verdict("NOT-FOUR"), "in", cex.Path(), "steps:", cex.Reason)
	for _, a := range cex.Actions {
		fmt.Println(" ", actionNames[a])
	}
	fmt.Println(r.States, "states, complete:", r.Complete)
	// Output:
	// violated in 6 steps: the big jug holds 4 gallons
	//   fill big
	//   big to small
	//   empty small
	//   big to small
	//   fill big
	//   big to small
	// 16 states, complete: true
}
