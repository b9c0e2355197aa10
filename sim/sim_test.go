package sim

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/verishake/verishake/protocol"
)

// small is a quick configuration: 50 clients, 500 handshakes.
func small() Config {
	c := DefaultConfig()
	c.Clients, c.Handshakes = 50, 500
	return c
}

// runJSON runs cfg and returns its report as JSON without the wall-clock
// fields, and its trace.
func runJSON(t *testing.T, cfg Config) (map[string]any, []byte) {
	t.Helper()
	var trace bytes.Buffer
	rep, err := Run(cfg, RunOptions{Trace: &trace})
	require.NoError(t, err)
	b, err := json.Marshal(rep)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	for _, k := range WallClockFields {
		require.Contains(t, m, k)
		delete(m, k)
	}
	return m, trace.Bytes()
}

func TestDeterminism(t *testing.T) {
	cfg := small()
	cfg.Upstream = Channel{Loss: 0.2, Dup: 0.1, Corrupt: 0.05, DelayMin: time.Millisecond, DelayMax: 2 * time.Second}
	cfg.Push = cfg.Upstream
	cfg.Seed = 42
	rep1, trace1 := runJSON(t, cfg)
	rep2, trace2 := runJSON(t, cfg)
	assert.Equal(t, rep1, rep2, "same seed, same report (wall-clock fields aside)")
	assert.True(t, bytes.Equal(trace1, trace2), "same seed, byte-identical trace")
	assert.Greater(t, len(trace1), 10000)

	cfg.Seed = 43
	rep3, trace3 := runJSON(t, cfg)
	assert.False(t, bytes.Equal(trace1, trace3), "another seed, another trace")
	assert.NotEqual(t, rep1, rep3)
}

// Over random channels with loss < 1 and no adversary, hardened keeps
// every property and every handshake ends within its budget; with no
// faults at all, every handshake verifies (and DELIVER, asked of those
// runs, holds).
func TestHardenedOverRandomChannels(t *testing.T) {
	budget, ok := LiveBudget(protocol.Hardened())
	require.True(t, ok)
	rapid.Check(t, func(t *rapid.T) {
		faulty := rapid.Bool().Draw(t, "faulty")
		channel := func(name string) Channel {
			lo := time.Duration(rapid.Int64Range(0, int64(time.Second)).Draw(t, name+".delayMin"))
			c := Channel{DelayMin: lo, DelayMax: lo + time.Duration(rapid.Int64Range(0, int64(3*time.Second)).Draw(t, name+".delaySpan"))}
			if faulty {
				c.Loss = rapid.Float64Range(0, 0.95).Draw(t, name+".loss")
				c.Dup = rapid.Float64Range(0, 0.5).Draw(t, name+".dup")
				c.Corrupt = rapid.Float64Range(0, 0.3).Draw(t, name+".corrupt")
			}
			return c
		}
		cfg := DefaultConfig()
		cfg.Clients = rapid.IntRange(1, 20).Draw(t, "clients")
		cfg.Handshakes = rapid.IntRange(1, 60).Draw(t, "handshakes")
		cfg.Commands = rapid.IntRange(0, 3).Draw(t, "commands")
		cfg.Rate = rapid.Float64Range(0.01, 5).Draw(t, "rate")
		cfg.Seed = rapid.Uint64().Draw(t, "seed")
		cfg.Upstream, cfg.Push = channel("upstream"), channel("push")

		rep, err := Run(cfg, RunOptions{})
		require.NoError(t, err)
		require.Empty(t, rep.Violations)
		require.Equal(t, "done", rep.Stopped)
		require.Equal(t, uint64(cfg.Handshakes), rep.Handshakes)
		require.Equal(t, rep.Handshakes, rep.Verified+rep.Failed, "every handshake ended")
		require.LessOrEqual(t, rep.LatencyMax, float64(budget.Milliseconds()))
		if !faulty {
			require.True(t, rep.DeliverChecked)
			require.Equal(t, rep.Handshakes, rep.Verified, "no faults: all verified")
			require.Zero(t, rep.HalfVerified+rep.Lost)
		}
	})
}

// The 20%-loss run of the issue at a tenth of the size. Each round trip
// then succeeds with 0.8² = 0.64, and hardened makes Retries+1 = 9 tries
// per phase, all inside its lifetime, so a phase fails with about
// 0.36⁹ ≈ 0.01% and a handshake with about 0.02%. With the old hardened
// back-off (5 tries, the sixth cut off by a 30 s lifetime) it was 1.2%.
func TestLoss20(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Handshakes, cfg.Seed = 10000, 7
	cfg.Upstream.Loss, cfg.Push.Loss = 0.2, 0.2
	rep, err := Run(cfg, RunOptions{})
	require.NoError(t, err)
	require.Empty(t, rep.Violations)
	ratio := float64(rep.Verified) / float64(rep.Handshakes)
	assert.GreaterOrEqual(t, ratio, 0.999, "verified %d of %d", rep.Verified, rep.Handshakes)

	cfg.Profile.Retries, cfg.Profile.Lifetime, cfg.Profile.MaxBackoff = 4, 30*time.Second, 0
	rep, err = Run(cfg, RunOptions{})
	require.NoError(t, err)
	require.Empty(t, rep.Violations)
	ratio = float64(rep.Verified) / float64(rep.Handshakes)
	phase := math.Pow(1-0.8*0.8, 5)
	assert.InDelta(t, 1-2*phase, ratio, 0.005, "five tries a step: verified %d of %d", rep.Verified, rep.Handshakes)
}

// With every push lost nothing verifies: each handshake fails cleanly
// (retries, then the lifetime), nothing half-verifies, and the run ends.
func TestPushLossOne(t *testing.T) {
	cfg := small()
	cfg.Push.Loss = 1
	rep, err := Run(cfg, RunOptions{})
	require.NoError(t, err)
	assert.Empty(t, rep.Violations)
	assert.Equal(t, "done", rep.Stopped)
	assert.Equal(t, uint64(cfg.Handshakes), rep.Handshakes)
	assert.Zero(t, rep.Verified)
	assert.Equal(t, rep.Handshakes, rep.Failed)
	assert.Zero(t, rep.HalfVerified)
	assert.Zero(t, rep.Unfinished)
	assert.InDelta(t, float64(protocol.Hardened().Retries), rep.RetransmissionsPerHandshake, 1e-9)
}

// The patent has no timer: a lost message leaves its client waiting for
// ever. The run still ends (nothing is left to happen) and reports LIVE.
func TestPatentLossViolatesLive(t *testing.T) {
	cfg := small()
	cfg.Profile = protocol.Patent()
	cfg.Upstream.Loss, cfg.Push.Loss = 0.1, 0.1
	rep, err := Run(cfg, RunOptions{})
	require.NoError(t, err)
	require.Len(t, rep.Violations, 1)
	v := rep.Violations[0]
	assert.Equal(t, protocol.Live, v.Property)
	assert.Contains(t, v.Reason, "never ended")
	assert.Equal(t, "done", rep.Stopped)
	assert.Equal(t, rep.Steps, v.Step)
	assert.Positive(t, rep.Unfinished)
	assert.Contains(t, rep.Replay, "--profile patent")
	assert.Contains(t, rep.Replay, "--seed 1")
}

// A violation's trace replays: the same steps, the same violation.
func TestReplayReproducesViolation(t *testing.T) {
	for _, tc := range []struct {
		name     string
		mod      func(*Config)
		property string
	}{
		{"patent-dup", func(c *Config) { c.Profile = protocol.Patent(); c.Upstream.Dup = 0.2 }, protocol.AuthS},
		{"patent-loss", func(c *Config) { c.Profile = protocol.Patent(); c.Push.Loss = 0.2 }, protocol.Live},
		// The server enforces its cap, so BOUNDED holds under 50 clients'
		// unanswered Hellos (its monitor's firing is TestMonitorBounded's).
		{"bounded", func(c *Config) { c.Profile.HalfOpenCap = 3; c.Push.Loss = 1 }, ""},
		{"late", func(c *Config) { c.Profile.Lifetime = 0; c.Profile.Retries = 1; c.Push.Loss = 1 }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := small()
			tc.mod(&cfg)
			var trace bytes.Buffer
			rep, err := Run(cfg, RunOptions{Trace: &trace})
			require.NoError(t, err)
			if tc.property == "" {
				require.Empty(t, rep.Violations)
				if tc.name == "bounded" {
					assert.Equal(t, 3, rep.MaxHalfOpen)
				}
			} else {
				require.NotEmpty(t, rep.Violations)
				assert.Equal(t, tc.property, rep.Violations[0].Property)
			}
			out, err := Replay(bytes.NewReader(trace.Bytes()), "t.jsonl", ReplayOptions{})
			require.NoError(t, err)
			assert.Equal(t, rep.Violations, out.Violations)
			assert.Equal(t, rep.Steps, out.Steps)
			assert.Equal(t, uint64(1), out.HS)
			assert.NotEmpty(t, out.Records)

			// Tail gives the last records up to the violating step.
			if len(rep.Violations) > 0 {
				tail, err := Tail(cfg, rep.Violations[0].Step, 5)
				require.NoError(t, err)
				require.NotEmpty(t, tail)
				lines := strings.Split(strings.TrimSpace(trace.String()), "\n")
				last := lines[rep.Violations[0].Step] // line 0 is the header
				assert.JSONEq(t, last, string(tail[len(tail)-1]))
			}
		})
	}
}

func TestReplayErrors(t *testing.T) {
	cfg := small()
	cfg.Upstream.Loss, cfg.Push.Loss = 0.2, 0.2
	var buf bytes.Buffer
	_, err := Run(cfg, RunOptions{Trace: &buf})
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	join := func(ls []string) *strings.Reader { return strings.NewReader(strings.Join(ls, "\n") + "\n") }

	_, err = Replay(join(lines), "ok.jsonl", ReplayOptions{Handshake: 3})
	require.NoError(t, err)

	check := func(ls []string, kind error, line int, contains string) {
		t.Helper()
		_, err := Replay(join(ls), "f.jsonl", ReplayOptions{})
		require.ErrorIs(t, err, kind)
		var te *TraceError
		require.ErrorAs(t, err, &te)
		assert.Equal(t, "f.jsonl", te.File)
		assert.Equal(t, line, te.Line, "%v", err)
		assert.Contains(t, err.Error(), contains)
	}
	// A claim edited on line 11 (step 10).
	edit := func(i int, from, to string) []string {
		ls := append([]string(nil), lines...)
		require.Contains(t, ls[i], from)
		ls[i] = strings.Replace(ls[i], from, to, 1)
		return ls
	}
	i := 1
	for !strings.Contains(lines[i], `"claims"`) {
		i++
	}
	check(edit(i, `"role":"`, `"role":"x`), ErrDiverged, i+1, `field "claims"`)
	j := 1
	for !strings.Contains(lines[j], `"slot":`) {
		j++
	}
	check(edit(j, `"slot":`, `"slot":"x","n2":`), ErrMalformed, j+1, "step: json")
	check(edit(i, `"claims":[`, `"claims":[{"kind":"Commit","role":"client","regid":1},`), ErrDiverged, i+1, `field "claims"`)
	check(edit(1, `"kind":"Hello"`, `"kind":"Confirm1"`), ErrDiverged, 2, `field "sent"`)
	check(append(append([]string{}, lines[:5]...), lines[6:]...), ErrMalformed, 6, "follows step")
	check(lines[:len(lines)-1], ErrMalformed, len(lines)-1, "without")
	check(edit(0, `"schema":1`, `"schema":9`), ErrMalformed, 1, "schema 9")
	check([]string{"not json"}, ErrMalformed, 1, "not a JSON object")
	check(edit(len(lines)-1, `"violations":[]`, `"violations":[{"property":"LIVE","step":1,"t":0,"reason":"x"}]`), ErrDiverged, len(lines), "ends with violations")
}

func TestConfigValidate(t *testing.T) {
	require.NoError(t, DefaultConfig().Validate())
	for _, mod := range []func(*Config){
		func(c *Config) { c.Clients = 0 },
		func(c *Config) { c.Handshakes = -1 },
		func(c *Config) { c.Rate = 0 },
		func(c *Config) { c.Upstream.Loss = 1.5 },
		func(c *Config) { c.Push.Dup = math.NaN() },
		func(c *Config) { c.Push.DelayMin, c.Push.DelayMax = 2, 1 },
		func(c *Config) { c.Profile.TokenBits = 0 },
	} {
		c := DefaultConfig()
		mod(&c)
		assert.Error(t, c.Validate())
	}
}

func TestHistogram(t *testing.T) {
	var h histogram
	assert.Zero(t, h.quantile(0.5))
	for v := int64(1); v <= 100000; v++ {
		h.add(v * 1000)
	}
	for _, q := range []float64{0.5, 0.9, 0.99} {
		want := q * 1e8
		assert.InEpsilon(t, want, float64(h.quantile(q)), 0.01, "q=%v", q)
	}
	assert.Equal(t, int64(1e8), h.quantile(1))
	for i := range 2000 {
		v := int64(i) * 7919 * 104729
		assert.GreaterOrEqual(t, upper(bucketOf(v)), v)
		if b := bucketOf(v); b > 0 {
			assert.Less(t, upper(b-1), v)
		}
	}
}

// TestQueueOrder: whatever is pushed, on the heap or on a lane, events
// come out in (at, seq) order — the order a sorted list gives — so a run
// depends on its seed alone.
func TestQueueOrder(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var q queue
		delays := rapid.SliceOfNDistinct(rapid.Int64Range(1, 50), 0, 5, rapid.ID).Draw(t, "lanes")
		for _, d := range delays {
			q.addLane(protocol.Time(d))
		}
		var want []event // the model: every pending event, seq as the queue numbers them
		now, seq := protocol.Time(0), uint64(0)
		for i := range rapid.IntRange(1, 200).Draw(t, "ops") {
			switch op := rapid.IntRange(0, 2).Draw(t, "op"); {
			case op == 0:
				at := now + protocol.Time(rapid.Int64Range(0, 60).Draw(t, "delay"))
				q.push(event{at: at, id: uint64(i)})
				seq++
				want = append(want, event{at: at, seq: seq, id: uint64(i)})
			case op == 1 && len(delays) > 0:
				at := now + protocol.Time(delays[rapid.IntRange(0, len(delays)-1).Draw(t, "lane")])
				q.pushAt(now, event{at: at, id: uint64(i)})
				seq++
				want = append(want, event{at: at, seq: seq, id: uint64(i)})
			case len(want) > 0:
				slices.SortFunc(want, func(a, b event) int {
					if a.before(&b) {
						return -1
					}
					return 1
				})
				_, next := q.next()
				require.NotNil(t, next)
				require.Equal(t, want[0], *next)
				got := q.pop()
				require.Equal(t, want[0], got)
				want = want[1:]
				now = got.at // the clock follows the events taken
			}
			require.Equal(t, len(want), q.len())
		}
	})
}
