package sim

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/trace"
)

// TestStepNamesAreTheTraces: each step kind prints as the trace's name
// for it, in order, and parses back.
func TestStepNamesAreTheTraces(t *testing.T) {
	names := trace.StepNames()
	kinds := StepKinds()
	require.Len(t, kinds, len(names))
	for i, k := range kinds {
		require.Equal(t, names[i], k.String())
		back, err := ParseStepKind(names[i])
		require.NoError(t, err)
		require.Equal(t, k, back)
	}
}

// TestTraceConfigEncodesLikeConfig: the header's trace.SimConfig is
// Config's JSON form, field for field, and converts back to the same
// Config. Every field is set to a value of its own, so that a field
// added to Config and not to trace.SimConfig (or copied into the wrong
// one) fails here instead of vanishing from traces.
func TestTraceConfigEncodesLikeConfig(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Variant, cfg.Seed = "short-tokens", 11
	cfg.Clients, cfg.Handshakes, cfg.Commands, cfg.CommandGap = 3, 5, 2, 7*time.Millisecond
	cfg.Rate, cfg.Adversary, cfg.AdversaryRate, cfg.Horizon = 0.5, "replay", 12, 13*time.Second
	cfg.Upstream = Channel{Loss: 0.1, Dup: 0.2, Corrupt: 0.3, DelayMin: time.Millisecond, DelayMax: 2 * time.Millisecond}
	cfg.Push = Channel{Loss: 0.4, Dup: 0.5, Corrupt: 0.6, DelayMin: 3 * time.Millisecond, DelayMax: 4 * time.Millisecond}
	v := reflect.ValueOf(cfg)
	for i := range v.NumField() {
		require.False(t, v.Field(i).IsZero(), "give Config.%s a value in this test", v.Type().Field(i).Name)
	}
	want, err := json.Marshal(cfg)
	require.NoError(t, err)
	got, err := json.Marshal(cfg.traceConfig())
	require.NoError(t, err)
	require.JSONEq(t, string(want), string(got))
	require.Equal(t, string(want), string(got), "same fields in the same order")

	hd := trace.Header{Profile: cfg.Profile, Variant: cfg.Variant, Seed: cfg.Seed, Config: cfg.traceConfig()}
	require.Equal(t, cfg, configOf(&hd))
}

// TestRunWritesTheTraceItWroteBefore: the simulator, writing through
// package trace, writes byte for byte the trace it wrote before the schema
// moved there (../trace/testdata/README.md says how that was made); its
// header's configuration reruns it. Since then every rejection reason
// carries its package's prefix ("protocol: "), the one change, which the
// comparison leaves out.
func TestRunWritesTheTraceItWroteBefore(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("..", "trace", "testdata", "sim.jsonl"))
	require.NoError(t, err)
	first, err := bufio.NewReader(bytes.NewReader(want)).ReadBytes('\n')
	require.NoError(t, err)
	var hd trace.Header
	require.NoError(t, json.Unmarshal(first, &hd))
	require.Equal(t, trace.SourceSim, hd.Source)
	require.NotNil(t, hd.Config)
	require.Equal(t, protocol.Hardened(), hd.Profile)

	var got bytes.Buffer
	_, err = Run(configOf(&hd), RunOptions{Trace: &got})
	require.NoError(t, err)
	unprefixed := func(s string) string { return strings.ReplaceAll(s, `"err":"protocol: `, `"err":"`) }
	require.Equal(t, unprefixed(string(want)), unprefixed(got.String()))
}

// TestReplayReadsTheTracesWrittenBefore: a simulator trace and an
// explorer counterexample written before the schema moved to package
// trace still replay, and the counterexample still shows its target.
func TestReplayReadsTheTracesWrittenBefore(t *testing.T) {
	for name, want := range map[string][]string{
		"sim.jsonl":           {},
		"explore-agree.jsonl": {protocol.Agree, protocol.AuthS},
	} {
		t.Run(name, func(t *testing.T) {
			f, err := os.Open(filepath.Join("..", "trace", "testdata", name))
			require.NoError(t, err)
			defer f.Close()
			out, err := Replay(f, name, ReplayOptions{})
			require.NoError(t, err)
			got := []string{}
			for _, v := range out.Violations {
				got = append(got, v.Property)
			}
			require.Equal(t, want, got)
		})
	}
}
