package fsm_test

import (
	"testing"

	"github.com/verishake/verishake/fsm"
)

var sinkState hsState

// BenchmarkFire is one Instance.Fire on the session table. Package
// fsm/looplab times it against looplab on the same table
// (BenchmarkFireVsLooplab).
func BenchmarkFire(b *testing.B) {
	m := fsm.MustCompile(sessionSpec())
	in := m.Start()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := in.Fire(sessionCycle[i&(len(sessionCycle)-1)]); err != nil {
			b.Fatal(err)
		}
	}
	sinkState = in.State()
}

// BenchmarkNext is the pure lookup, following the same cycle.
func BenchmarkNext(b *testing.B) {
	m := fsm.MustCompile(sessionSpec())
	s := Idle
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		var err error
		if s, err = m.Next(s, sessionCycle[i&(len(sessionCycle)-1)]); err != nil {
			b.Fatal(err)
		}
	}
	sinkState = s
}
