package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/verishake/verishake/sim/explore"
)

// progressEvery is how often a check not on a terminal logs its progress.
const progressEvery = 10 * time.Second

// progressLog logs a running check as lines on a writer that is not a
// terminal (a CI log, say), at most one per interval: a long check shows
// it is moving without flooding the log.
type progressLog struct {
	w     io.Writer
	now   func() time.Time
	every time.Duration

	mu         sync.Mutex
	latest     explore.Progress
	last       time.Time // of the last line, or the start
	lastStates uint64
}

func newProgressLog(w io.Writer, now func() time.Time, every time.Duration) *progressLog {
	return &progressLog{w: w, now: now, every: every, last: now()}
}

// update records the search's progress and logs it if a line is due.
func (l *progressLog) update(p explore.Progress) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.latest = p
	l.logDue()
}

// tick logs the latest progress if a line is due: a level that takes
// long still gets its lines.
func (l *progressLog) tick() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.logDue()
}

func (l *progressLog) logDue() {
	now := l.now()
	since := now.Sub(l.last)
	if since < l.every {
		return
	}
	p := l.latest
	rate := float64(p.States-min(l.lastStates, p.States)) / since.Seconds()
	fmt.Fprintf(l.w, "verishake check: depth %d, %d states, %d frontier, %.0f states/s, memory %s, disk %s\n",
		p.Depth, p.States, p.Frontier, rate, formatSize(p.Memory), formatSize(p.Disk))
	l.last, l.lastStates = now, p.States
}

// run ticks every period until the returned stop is called (once or more).
func (l *progressLog) run(period time.Duration) (stop func()) {
	t := time.NewTicker(period)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-t.C:
				l.tick()
			case <-done:
				return
			}
		}
	})
	var once sync.Once
	return func() {
		once.Do(func() {
			t.Stop()
			close(done)
			wg.Wait()
		})
	}
}
