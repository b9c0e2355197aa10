package bench_test

import (
	"context"
	"errors"
	"testing"
	"time"

	lfsm "github.com/looplab/fsm"
	"github.com/qmuntal/stateless"

	"github.com/verishake/verishake/fsm"
	"github.com/verishake/verishake/fsm/looplab"
)

// One transition table for the three engines: the client side of a
// handshake as a long-lived session (Reset goes back to Idle), with
// self-loops (Retry, Command) and an event sequence that cycles from Idle
// back to Idle. It is the table of fsm/looplab's BenchmarkFireVsLooplab.

type state uint8

const (
	Idle state = iota
	AwaitValidation
	AwaitConfirm2
	Verified
	Failed
)

var stateNames = [...]string{"Idle", "AwaitValidation", "AwaitConfirm2", "Verified", "Failed"}

func (s state) String() string { return stateNames[s] }

type event uint8

const (
	Start event = iota
	Validation
	Retry
	Confirm2
	GiveUp
	Command
	Timeout
	Reset
)

var eventNames = [...]string{"Start", "Validation", "Retry", "Confirm2", "GiveUp", "Command", "Timeout", "Reset"}

func (e event) String() string { return eventNames[e] }

var rows = []fsm.Transition[state, event]{
	{From: Idle, Event: Start, To: AwaitValidation},
	{From: AwaitValidation, Event: Validation, To: AwaitConfirm2},
	{From: AwaitValidation, Event: Retry, To: AwaitValidation},
	{From: AwaitValidation, Event: Timeout, To: Failed},
	{From: AwaitValidation, Event: GiveUp, To: Failed},
	{From: AwaitConfirm2, Event: Confirm2, To: Verified},
	{From: AwaitConfirm2, Event: Retry, To: AwaitConfirm2},
	{From: AwaitConfirm2, Event: Timeout, To: Failed},
	{From: AwaitConfirm2, Event: GiveUp, To: Failed},
	{From: Verified, Event: Command, To: Verified},
	{From: Verified, Event: Reset, To: Idle},
	{From: Failed, Event: Reset, To: Idle},
}

func spec() fsm.Spec[state, event] {
	return fsm.Spec[state, event]{
		Name:        "session",
		Initial:     Idle,
		States:      []state{Idle, AwaitValidation, AwaitConfirm2, Verified, Failed},
		Events:      []event{Start, Validation, Retry, Confirm2, GiveUp, Command, Timeout, Reset},
		Transitions: rows,
	}
}

// cycle is valid from Idle and returns to Idle; its length is a power of
// two, so a loop indexes it with a mask.
var cycle = [16]event{
	Start, Retry, Validation, Retry, Confirm2, Command, Command, Reset,
	Start, GiveUp, Reset,
	Start, Retry, Validation, Timeout, Reset,
}

// engine fires one event and reports the state after it.
type engine interface {
	fire(e event) error
	state() state
}

type verishake struct{ in fsm.Instance[state, event] }

func newVerishake() *verishake { return &verishake{fsm.MustCompile(spec()).Start()} }

func (v *verishake) fire(e event) error { return v.in.Fire(e) }
func (v *verishake) state() state       { return v.in.State() }

// looplabEngine is built by package fsm/looplab from the same spec.
// Self-loops come back as looplab's NoTransitionError, which is its way of
// saying "accepted, state unchanged".
type looplabEngine struct {
	f     *lfsm.FSM
	ctx   context.Context
	names map[string]state
}

func newLooplab() *looplabEngine {
	f, err := looplab.New(fsm.MustCompile(spec()), Idle)
	if err != nil {
		panic(err)
	}
	names := map[string]state{}
	for i, n := range stateNames {
		names[n] = state(i)
	}
	return &looplabEngine{f: f, ctx: context.Background(), names: names}
}

func (l *looplabEngine) fire(e event) error {
	err := l.f.Event(l.ctx, eventNames[e])
	var noTrans lfsm.NoTransitionError
	if errors.As(err, &noTrans) && noTrans.Err == nil {
		return nil
	}
	return err
}
func (l *looplabEngine) state() state { return l.names[l.f.Current()] }

// stateless gets the same rows: Permit, or PermitReentry for a self-loop.
type statelessEngine struct{ sm *stateless.StateMachine }

func newStateless() *statelessEngine {
	sm := stateless.NewStateMachine(Idle)
	for _, r := range rows {
		if r.From == r.To {
			sm.Configure(r.From).PermitReentry(r.Event)
		} else {
			sm.Configure(r.From).Permit(r.Event, r.To)
		}
	}
	return &statelessEngine{sm}
}

func (s *statelessEngine) fire(e event) error { return s.sm.Fire(e) }
func (s *statelessEngine) state() state       { return s.sm.MustState().(state) }

var engines = []struct {
	name string
	new  func() engine
}{
	{"verishake", func() engine { return newVerishake() }},
	{"looplab", func() engine { return newLooplab() }},
	{"stateless", func() engine { return newStateless() }},
}

// TestEnginesAgree drives the three engines through the cycle and through
// events the table refuses, and requires the same states and the same
// accept/refuse answers: the benchmarks compare the same work.
func TestEnginesAgree(t *testing.T) {
	es := make([]engine, len(engines))
	for i, e := range engines {
		es[i] = e.new()
	}
	// The cycle, twice, then from each state every event once: refused
	// ones must leave every engine where it was.
	seq := append(cycle[:], cycle[:]...)
	seq = append(seq, Start, Confirm2, Command, Validation, Reset, Retry, Validation, Reset, Timeout, GiveUp, Start, GiveUp, Command, Start)
	for step, ev := range seq {
		want := es[0].fire(ev) == nil
		for i := 1; i < len(es); i++ {
			if got := es[i].fire(ev) == nil; got != want {
				t.Fatalf("step %d, %v: %s accepted %v, %s %v", step, ev, engines[i].name, got, engines[0].name, want)
			}
			if es[i].state() != es[0].state() {
				t.Fatalf("step %d, %v: %s in %v, %s in %v", step, ev, engines[i].name, es[i].state(), engines[0].name, es[0].state())
			}
		}
	}
	if es[0].state() != Verified && es[0].state() != Failed && es[0].state() != AwaitValidation {
		t.Fatalf("ended in %v", es[0].state())
	}
}

func benchEngine(b *testing.B, e engine) {
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := e.fire(cycle[i&(len(cycle)-1)]); err != nil {
			b.Fatal(err)
		}
	}
	if e.state() == 255 {
		b.Fatal("unreachable")
	}
}

// BenchmarkFire is one transition of each engine on the same table.
func BenchmarkFire(b *testing.B) {
	for _, e := range engines {
		b.Run(e.name, func(b *testing.B) { benchEngine(b, e.new()) })
	}
}

// BenchmarkEngines times the three engines in the same run, batch after
// batch, and reports each one's ns per transition and how many times
// faster verishake's fsm is than each of the others: a ratio measured in
// one run is what a noisy machine can compare. The framework's ns/op is
// per round of three batches; read the metrics.
func BenchmarkEngines(b *testing.B) {
	const batch = 4096
	es := make([]engine, len(engines))
	for i, e := range engines {
		es[i] = e.new()
	}
	took := make([]time.Duration, len(es))
	for b.Loop() {
		for i, e := range es {
			t0 := time.Now()
			for j := range batch {
				if err := e.fire(cycle[j&(len(cycle)-1)]); err != nil {
					b.Fatal(err)
				}
			}
			took[i] += time.Since(t0)
		}
	}
	for i := range es {
		if es[i].state() != Idle {
			b.Fatalf("%s out of step: %v", engines[i].name, es[i].state())
		}
	}
	n := float64(b.N) * batch
	for i, e := range engines {
		b.ReportMetric(float64(took[i].Nanoseconds())/n, e.name+"-ns/transition")
	}
	b.ReportMetric(float64(took[1])/float64(took[0]), "x-vs-looplab")
	b.ReportMetric(float64(took[2])/float64(took[0]), "x-vs-stateless")
}
