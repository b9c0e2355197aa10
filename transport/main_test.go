package transport

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/verishake/verishake/protocol"
)

// TestMain fails the package if any test leaves a goroutine behind: every
// server, relay, device and timer must be shut down.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeClock is a settable clock for tests that must not depend on timing.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// capturePusher records every push, for tests that drive a server directly.
type capturePusher struct {
	mu     sync.Mutex
	pushes []Push
	err    error
}

func (c *capturePusher) Push(_ context.Context, p Push) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return c.err
	}
	c.pushes = append(c.pushes, p)
	return nil
}

func (c *capturePusher) all() []Push {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Push(nil), c.pushes...)
}

func (c *capturePusher) last() Push {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.pushes) == 0 {
		return Push{}
	}
	return c.pushes[len(c.pushes)-1]
}

// claimLog collects the claims of every traced step.
type claimLog struct {
	mu     sync.Mutex
	claims []protocol.Claim
	steps  []Step
}

func (l *claimLog) Step(s Step) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.claims = append(l.claims, s.Claims...)
	l.steps = append(l.steps, s)
}

func (l *claimLog) count(kind protocol.ClaimKind, role protocol.Role) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, c := range l.claims {
		if c.Kind == kind && c.Role == role {
			n++
		}
	}
	return n
}

// waitFor polls cond until it holds or the deadline passes: waiting for a
// condition, not asserting on elapsed time.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (l *claimLog) countInput(role protocol.Role, in Input) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, s := range l.steps {
		if s.Role == role && s.Input == in {
			n++
		}
	}
	return n
}
