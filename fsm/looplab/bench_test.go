package looplab_test

import (
	"context"
	"errors"
	"testing"
	"time"

	lfsm "github.com/looplab/fsm"
	"github.com/verishake/verishake/fsm"
	"github.com/verishake/verishake/fsm/internal/fsmtest"
	"github.com/verishake/verishake/fsm/looplab"
)

var sinkState fsmtest.State

// BenchmarkLooplabEvent is one looplab FSM.Event on the session table and
// event sequence of package fsm's BenchmarkFire.
func BenchmarkLooplabEvent(b *testing.B) {
	m := fsm.MustCompile(fsmtest.SessionSpec())
	f, err := looplab.New(m, fsmtest.Idle)
	if err != nil {
		b.Fatal(err)
	}
	var names [len(fsmtest.SessionCycle)]string
	for i, ev := range fsmtest.SessionCycle {
		names[i] = ev.String()
	}
	ctx := context.Background()
	var noTrans lfsm.NoTransitionError
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// Self-loops come back as NoTransitionError; anything else is a bug.
		if err := f.Event(ctx, names[i&(len(names)-1)]); err != nil && !errors.As(err, &noTrans) {
			b.Fatal(err)
		}
	}
}

// BenchmarkFireVsLooplab measures both engines in the same run and reports
// how many times faster Fire is (x-vs-looplab). testing.Benchmark cannot be
// nested in a benchmark (it deadlocks on the benchmark lock), so each
// iteration times one batch of each engine itself; a batch is long enough
// (thousands of events) for timer overhead to vanish. The framework's own
// ns/op is per pair of batches and not meaningful; read fire-ns/event and
// looplab-ns/event.
func BenchmarkFireVsLooplab(b *testing.B) {
	const batch = 4096
	m := fsm.MustCompile(fsmtest.SessionSpec())
	in := m.Start()
	f, err := looplab.New(m, fsmtest.Idle)
	if err != nil {
		b.Fatal(err)
	}
	var names [len(fsmtest.SessionCycle)]string
	for i, ev := range fsmtest.SessionCycle {
		names[i] = ev.String()
	}
	ctx := context.Background()
	var fireT, loopT time.Duration
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		for j := 0; j < batch; j++ {
			if err := in.Fire(fsmtest.SessionCycle[j&(len(fsmtest.SessionCycle)-1)]); err != nil {
				b.Fatal(err)
			}
		}
		t1 := time.Now()
		for j := 0; j < batch; j++ {
			_ = f.Event(ctx, names[j&(len(names)-1)])
		}
		fireT, loopT = fireT+t1.Sub(t0), loopT+time.Since(t1)
	}
	sinkState = in.State()
	if in.State() != fsmtest.Idle || f.Current() != "Idle" {
		b.Fatalf("engines out of step: %v, %s", in.State(), f.Current())
	}
	events := float64(b.N) * batch
	b.ReportMetric(float64(fireT.Nanoseconds())/events, "fire-ns/event")
	b.ReportMetric(float64(loopT.Nanoseconds())/events, "looplab-ns/event")
	b.ReportMetric(float64(loopT)/float64(fireT), "x-vs-looplab")
}
