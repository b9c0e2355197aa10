package sim

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/verishake/verishake/adversary"
	"github.com/verishake/verishake/protocol"
)

// strategies are the `--adversary` names of README.md besides none.
var strategies = []string{"replay", "forge", "impersonate", "flood", "all"}

// attacked is small() under strategy name, on profile p changed by
// variant (none: "").
func attacked(t testing.TB, name, variant string, p protocol.Profile) Config {
	t.Helper()
	cfg := small()
	p, err := ApplyVariant(p, variant)
	require.NoError(t, err)
	cfg.Profile, cfg.Variant, cfg.Adversary = p, variant, name
	return cfg
}

func TestStrategiesRegistered(t *testing.T) {
	assert.Equal(t, []string{"all", "flood", "forge", "impersonate", "none", "replay"}, AdversaryNames())
	p := protocol.Hardened()
	p.TokenBits = 8
	for _, name := range strategies {
		a, err := NewAdversary(name, AdversaryParams{Profile: p, Clients: 7, Insider: 8})
		require.NoError(t, err, name)
		adv, ok := a.(*adversary.Adversary)
		require.True(t, ok, "%s builds %T", name, a)
		assert.Equal(t, name, adv.Strategy.String())
		assert.Equal(t, 8, adv.TokenBits, "guesses match the profile's token length")
		assert.Equal(t, protocol.RegID(8), adv.Knowledge.Insider)
		assert.Len(t, adv.Targets, 7)
		assert.Equal(t, MaxCaptured, adv.Knowledge.MaxCaptured)
	}
	_, err := NewAdversary("gremlin", AdversaryParams{Profile: p, Clients: 1, Insider: 2})
	require.ErrorIs(t, err, ErrUnknownAdversary)
	assert.Contains(t, err.Error(), "impersonate")
}

// Same seed, same report (bar wall-clock fields) and the same trace, byte
// for byte, under every strategy; another seed, another run.
func TestStrategiesDeterministic(t *testing.T) {
	for _, name := range strategies {
		t.Run(name, func(t *testing.T) {
			cfg := attacked(t, name, "", protocol.Hardened())
			// A tenth of the default rate keeps the traces small (a forge
			// move is 16 injections, each a line); determinism does not
			// depend on the rate.
			cfg.Seed, cfg.AdversaryRate = 9, 10
			rep1, trace1 := runJSON(t, cfg)
			rep2, trace2 := runJSON(t, cfg)
			assert.Equal(t, rep1, rep2)
			assert.True(t, bytes.Equal(trace1, trace2), "byte-identical trace")
			assert.Positive(t, rep1["step_counts"].(map[string]any)["inject"])
			cfg.Seed = 10
			rep3, _ := runJSON(t, cfg)
			assert.NotEqual(t, rep1, rep3)
		})
	}
}

// Hardened keeps every property under every strategy, and each strategy
// does what it is for: the forger guesses (and never hits 128 bits), the
// flood fills the server's cap exactly, the others inject.
func TestHardenedUnderEachStrategy(t *testing.T) {
	for _, name := range strategies {
		t.Run(name, func(t *testing.T) {
			cfg := attacked(t, name, "", protocol.Hardened())
			r, err := NewRunner(cfg, RunOptions{})
			require.NoError(t, err)
			rep, err := r.Run()
			require.NoError(t, err)
			require.Empty(t, rep.Violations)
			assert.Equal(t, "done", rep.Stopped)
			assert.Equal(t, uint64(cfg.Handshakes), rep.Handshakes)
			assert.Equal(t, rep.Handshakes, rep.Verified+rep.Failed, "every handshake ended")
			assert.Positive(t, rep.StepCounts.Inject)
			assert.LessOrEqual(t, rep.MaxHalfOpen, 1024)
			assert.Zero(t, rep.ForgeAccepted)
			switch name {
			case "forge", "all":
				assert.Positive(t, rep.ForgeGuesses)
			default:
				assert.Zero(t, rep.ForgeGuesses)
			}
			if name == "flood" || name == "all" {
				assert.Equal(t, 1024, rep.MaxHalfOpen, "the flood reaches the cap, which holds")
			}
			// The world's FORGE statistic is the adversary's own.
			adv := r.World().Adversary().(*adversary.Adversary)
			assert.Equal(t, adv.Guesses, rep.ForgeGuesses)
			assert.Equal(t, adv.Accepted, rep.ForgeAccepted)
			assert.True(t, adv.ForgeHolds())
		})
	}
}

// Against 8-bit tokens the forger's guesses are accepted, and FORGE is the
// property reported — checked before the claims an accepted guess may
// also break — with the statistic in the report; the trace replays to the
// same violation without the adversary.
func TestForgeBreaksShortTokens(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		cfg := attacked(t, "forge", "short-tokens", protocol.Hardened())
		cfg.Clients, cfg.Handshakes, cfg.Seed = 100, 1000, seed
		var trace bytes.Buffer
		r, err := NewRunner(cfg, RunOptions{Trace: &trace})
		require.NoError(t, err)
		rep, err := r.Run()
		require.NoError(t, err)
		require.Len(t, rep.Violations, 1, "seed %d", seed)
		v := rep.Violations[0]
		assert.Equal(t, protocol.Forge, v.Property, "seed %d: %v", seed, v)
		assert.Equal(t, uint64(1), rep.ForgeAccepted)
		assert.Greater(t, rep.ForgeGuesses, rep.ForgeAccepted)
		assert.Contains(t, v.Reason, "8-bit tokens")
		adv := r.World().Adversary().(*adversary.Adversary)
		assert.False(t, adv.ForgeHolds(), "the adversary's own statistic agrees")
		assert.Equal(t, adv.Guesses, rep.ForgeGuesses)

		out, err := Replay(bytes.NewReader(trace.Bytes()), "forge.jsonl", ReplayOptions{})
		require.NoError(t, err)
		assert.Equal(t, rep.Violations, out.Violations)
		assert.Contains(t, trace.String(), `"guess":true`)
	}
}

// A server without a cap is held to hardened's 1024 half-open sessions: a
// flood breaks BOUNDED under no-session-cap and under the patent, and
// replay finds it again. Hardened refuses Hellos at its cap instead.
func TestFloodBounded(t *testing.T) {
	for _, tc := range []struct {
		name    string
		p       protocol.Profile
		variant string
	}{{"no-session-cap", protocol.Hardened(), "no-session-cap"}, {"patent", protocol.Patent(), ""}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := attacked(t, "flood", tc.variant, tc.p)
			var trace bytes.Buffer
			rep, err := Run(cfg, RunOptions{Trace: &trace})
			require.NoError(t, err)
			require.Len(t, rep.Violations, 1)
			v := rep.Violations[0]
			assert.Equal(t, protocol.Bounded, v.Property)
			assert.Contains(t, v.Reason, "1025 half-open sessions, over 1024: the profile sets no cap")
			assert.Equal(t, 1025, rep.MaxHalfOpen)
			out, err := Replay(bytes.NewReader(trace.Bytes()), "flood.jsonl", ReplayOptions{})
			require.NoError(t, err)
			assert.Equal(t, rep.Violations, out.Violations)
		})
	}
	var trace bytes.Buffer
	rep, err := Run(attacked(t, "flood", "", protocol.Hardened()), RunOptions{Trace: &trace})
	require.NoError(t, err)
	require.Empty(t, rep.Violations)
	assert.Equal(t, 1024, rep.MaxHalfOpen)
	assert.Contains(t, trace.String(), protocol.ErrSessionCap.Error(), "Hellos refused at the cap")
}

// Without sequence numbers a replayed command runs again: CMD.
func TestReplayBreaksNoCommandSeq(t *testing.T) {
	cfg := attacked(t, "replay", "no-command-seq", protocol.Hardened())
	require.GreaterOrEqual(t, cfg.Commands, 1)
	var trace bytes.Buffer
	rep, err := Run(cfg, RunOptions{Trace: &trace})
	require.NoError(t, err)
	require.Len(t, rep.Violations, 1)
	v := rep.Violations[0]
	assert.Equal(t, protocol.Cmd, v.Property)
	require.NotNil(t, v.Claim)
	assert.Equal(t, "Executed", v.Claim.Kind)
	out, err := Replay(bytes.NewReader(trace.Bytes()), "cmd.jsonl", ReplayOptions{})
	require.NoError(t, err)
	assert.Equal(t, rep.Violations, out.Violations)

	// The same attack on hardened: the sequence number stops it.
	cfg = attacked(t, "replay", "", protocol.Hardened())
	rep, err = Run(cfg, RunOptions{})
	require.NoError(t, err)
	assert.Empty(t, rep.Violations)
}

// rapid: a random strategy, seed and small world against hardened never
// yields a violation.
func TestHardenedNeverBreaksUnderAttack(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg := DefaultConfig()
		cfg.Adversary = rapid.SampledFrom(strategies).Draw(t, "adversary")
		cfg.Clients = rapid.IntRange(1, 20).Draw(t, "clients")
		cfg.Handshakes = rapid.IntRange(1, 60).Draw(t, "handshakes")
		cfg.Commands = rapid.IntRange(0, 3).Draw(t, "commands")
		cfg.Rate = rapid.Float64Range(0.25, 5).Draw(t, "rate")
		cfg.AdversaryRate = rapid.Float64Range(1, 100).Draw(t, "adversaryRate")
		cfg.Seed = rapid.Uint64().Draw(t, "seed")
		if rapid.Bool().Draw(t, "faulty") {
			cfg.Upstream.Loss = rapid.Float64Range(0, 0.5).Draw(t, "loss")
			cfg.Upstream.Dup = rapid.Float64Range(0, 0.3).Draw(t, "dup")
			cfg.Push = cfg.Upstream
		}
		rep, err := Run(cfg, RunOptions{})
		require.NoError(t, err)
		require.Empty(t, rep.Violations, "%s", cfg.Command())
		require.Zero(t, rep.ForgeAccepted)
		require.LessOrEqual(t, rep.MaxHalfOpen, 1024)
	})
}

func TestApplyVariant(t *testing.T) {
	h := protocol.Hardened()
	for _, name := range []string{"", "none"} {
		p, err := ApplyVariant(h, name)
		require.NoError(t, err)
		assert.Equal(t, h, p)
	}
	require.Len(t, VariantNames(), len(protocol.Variants()))
	for _, v := range protocol.Variants() {
		p, err := ApplyVariant(h, v.Name)
		require.NoError(t, err, v.Name)
		assert.Equal(t, "hardened+"+v.Name, p.Name)
		assert.NotEqual(t, h, p, "%s changes something", v.Name)
		require.NoError(t, p.Validate(), v.Name)
	}
	p, err := ApplyVariant(h, "short-tokens")
	require.NoError(t, err)
	assert.Equal(t, 8, p.TokenBits)
	_, err = ApplyVariant(h, "shorter-tokens")
	require.ErrorIs(t, err, ErrUnknownVariant)
	assert.Contains(t, err.Error(), `"shorter-tokens"`)
	assert.Contains(t, err.Error(), "no-session-cap")

	// The reproducing command names the profile the variant was applied to.
	cfg := attacked(t, "forge", "short-tokens", protocol.Patent())
	assert.True(t, strings.HasPrefix(cfg.Command(), "verishake sim --profile patent --variant short-tokens "), cfg.Command())
	cfg = attacked(t, "forge", "short-tokens", protocol.Hardened())
	assert.True(t, strings.HasPrefix(cfg.Command(), "verishake sim --variant short-tokens "), cfg.Command())
}
