package fsm

import (
	"errors"
	"fmt"
)

// Transition is one row of a transition table.
type Transition[S, E comparable] struct {
	From  S
	Event E
	To    S
}

// Spec describes a machine. Terminal states have no way out.
//
// Order matters only for presentation: [Machine.Permitted] lists events in
// Events order, and diagrams follow States, Transitions and Terminal order.
type Spec[S, E comparable] struct {
	Name        string
	Initial     S
	States      []S
	Events      []E
	Terminal    []S
	Transitions []Transition[S, E]
}

// SpecErrorKind classifies a [SpecError], so tests and tools can match on the
// problem rather than on message text.
type SpecErrorKind uint8

// The problems [Spec.Validate] reports.
const (
	DuplicateState      SpecErrorKind = iota + 1 // a state declared twice
	DuplicateEvent                               // an event declared twice
	DuplicateName                                // two states, or two events, print the same
	UndeclaredInitial                            // Initial is not in States
	UndeclaredTerminal                           // a Terminal entry is not in States
	DuplicateTerminal                            // a state listed twice in Terminal
	UndeclaredState                              // a transition names a state not in States
	UndeclaredEvent                              // a transition names an event not in Events
	DuplicateTransition                          // two rows for one (From, Event)
	TerminalExit                                 // a row leads out of a terminal state
	Unreachable                                  // a state not reachable from Initial
	NoWayOut                                     // a non-terminal state with no row to another state
)

var kindNames = [...]string{
	DuplicateState:      "duplicate state",
	DuplicateEvent:      "duplicate event",
	DuplicateName:       "duplicate name",
	UndeclaredInitial:   "undeclared initial state",
	UndeclaredTerminal:  "undeclared terminal state",
	DuplicateTerminal:   "duplicate terminal state",
	UndeclaredState:     "undeclared state",
	UndeclaredEvent:     "undeclared event",
	DuplicateTransition: "duplicate transition",
	TerminalExit:        "transition out of terminal state",
	Unreachable:         "unreachable state",
	NoWayOut:            "no way out",
}

// String returns a short description of the kind.
func (k SpecErrorKind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return fmt.Sprintf("SpecErrorKind(%d)", uint8(k))
}

// SpecError is one problem found by [Spec.Validate]. Validate joins all
// problems with errors.Join, so errors.As finds the first and
// Unwrap() []error lists them all.
type SpecError struct {
	Machine string
	Kind    SpecErrorKind
	Msg     string // names the states and events involved
}

// Error returns e.g. `fsm: machine "client": duplicate transition from AwaitValidation on Timeout`.
func (e *SpecError) Error() string { return fmt.Sprintf("fsm: machine %q: %s", e.Machine, e.Msg) }

// name is the single naming rule shared by errors, exports and the by-name
// lookups (StateByName, EventByName) that adapters to other engines, such
// as package fsm/looplab, rely on; Validate checks it is injective over the
// declared values.
func name[T any](v T) string { return fmt.Sprint(v) }

// Validate checks the spec and returns every problem found, joined; nil if
// the spec is valid. Unused events are allowed.
func (sp Spec[S, E]) Validate() error {
	var errs []error
	add := func(k SpecErrorKind, format string, args ...any) {
		errs = append(errs, &SpecError{Machine: sp.Name, Kind: k, Msg: fmt.Sprintf(format, args...)})
	}

	states := make(map[S]bool, len(sp.States))
	stateNames := make(map[string]S, len(sp.States))
	for _, s := range sp.States {
		n := name(s)
		if states[s] {
			add(DuplicateState, "duplicate state %s", n)
			continue
		}
		if other, ok := stateNames[n]; ok {
			add(DuplicateName, "states %#v and %#v both print as %q", other, s, n)
		}
		states[s] = true
		stateNames[n] = s
	}
	events := make(map[E]bool, len(sp.Events))
	eventNames := make(map[string]E, len(sp.Events))
	for _, e := range sp.Events {
		n := name(e)
		if events[e] {
			add(DuplicateEvent, "duplicate event %s", n)
			continue
		}
		if other, ok := eventNames[n]; ok {
			add(DuplicateName, "events %#v and %#v both print as %q", other, e, n)
		}
		events[e] = true
		eventNames[n] = e
	}

	if !states[sp.Initial] {
		add(UndeclaredInitial, "initial state %s is not declared", name(sp.Initial))
	}
	terminal := make(map[S]bool, len(sp.Terminal))
	for _, s := range sp.Terminal {
		switch {
		case terminal[s]:
			add(DuplicateTerminal, "terminal state %s listed twice", name(s))
		case !states[s]:
			add(UndeclaredTerminal, "terminal state %s is not declared", name(s))
		}
		terminal[s] = true
	}

	type key struct {
		s S
		e E
	}
	seen := make(map[key]bool, len(sp.Transitions))
	succ := make(map[S][]S, len(sp.States))
	wayOut := make(map[S]bool, len(sp.States))
	for _, t := range sp.Transitions {
		row := fmt.Sprintf("transition %s --%s--> %s", name(t.From), name(t.Event), name(t.To))
		ok := true
		if !states[t.From] {
			add(UndeclaredState, "%s: state %s is not declared", row, name(t.From))
			ok = false
		}
		if !events[t.Event] {
			add(UndeclaredEvent, "%s: event %s is not declared", row, name(t.Event))
			ok = false
		}
		if !states[t.To] {
			add(UndeclaredState, "%s: state %s is not declared", row, name(t.To))
			ok = false
		}
		k := key{t.From, t.Event}
		if seen[k] {
			add(DuplicateTransition, "duplicate transition from %s on %s", name(t.From), name(t.Event))
			continue
		}
		seen[k] = true
		if t.From != t.To {
			wayOut[t.From] = true
			if terminal[t.From] {
				add(TerminalExit, "transition out of terminal state %s on %s (to %s)", name(t.From), name(t.Event), name(t.To))
			}
		}
		if ok {
			succ[t.From] = append(succ[t.From], t.To)
		}
	}

	// Reachability is meaningless without a declared start; the missing
	// initial state has already been reported.
	if states[sp.Initial] {
		reached := map[S]bool{sp.Initial: true}
		queue := []S{sp.Initial}
		for len(queue) > 0 {
			s := queue[0]
			queue = queue[1:]
			for _, t := range succ[s] {
				if !reached[t] {
					reached[t] = true
					queue = append(queue, t)
				}
			}
		}
		for _, s := range sp.States {
			if !reached[s] {
				reached[s] = true // report duplicates once
				add(Unreachable, "state %s is unreachable from initial state %s", name(s), name(sp.Initial))
			}
		}
	}
	for _, s := range sp.States {
		if !terminal[s] && !wayOut[s] {
			wayOut[s] = true // report duplicates once
			add(NoWayOut, "state %s is not terminal but has no transition to another state", name(s))
		}
	}
	return errors.Join(errs...)
}
