package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/sim/explore"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestProgressLogsOneLineEveryInterval(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_000_000, 0)}
	var out strings.Builder
	l := newProgressLog(&out, clock.now, 10*time.Second)
	at := func(d time.Duration, p *explore.Progress) {
		clock.t = time.Unix(1_000_000, 0).Add(d)
		if p != nil {
			l.update(*p)
		} else {
			l.tick()
		}
	}
	at(3*time.Second, &explore.Progress{States: 1000, Depth: 2, Frontier: 500})
	at(9*time.Second+900*time.Millisecond, &explore.Progress{States: 2000, Depth: 3, Frontier: 700})
	require.Empty(t, out.String(), "nothing before 10 s")

	at(10*time.Second, &explore.Progress{States: 5000, Depth: 4, Frontier: 1200, Memory: 3 << 20, Disk: 512 << 10})
	require.Equal(t, "verishake check: depth 4, 5000 states, 1200 frontier, 500 states/s, memory 3.0MiB, disk 512.0KiB\n", out.String())

	at(15*time.Second, nil)
	at(19*time.Second, &explore.Progress{States: 9000, Depth: 5, Frontier: 900})
	require.Equal(t, 1, strings.Count(out.String(), "\n"), "one line per 10 s")

	// A tick with no new progress still logs when due: a long level shows.
	at(20*time.Second, nil)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 2)
	require.Equal(t, "verishake check: depth 5, 9000 states, 900 frontier, 400 states/s, memory 0B, disk 0B", lines[1])
}
