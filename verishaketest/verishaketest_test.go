package verishaketest_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/engine"
	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/sim"
	"github.com/verishake/verishake/verishaketest"
)

// recorder is a TB that keeps what Verify reports.
type recorder struct{ errors, logs []string }

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recorder) Logf(format string, args ...any) {
	r.logs = append(r.logs, fmt.Sprintf(format, args...))
}

// cheap are verify's network-faults exploration (at verify's bounds), its
// fault-free simulation and its forge simulation, cut to 500 handshakes:
// every property gets a verdict in about a second on hardened.
var cheap = []verishaketest.Option{
	verishaketest.Quick(), verishaketest.Only("explore: network faults", "sim: no faults", "sim: adversary forge"),
	verishaketest.MaxHandshakes(500),
}

// Each property the patent loses fails the test once, with its
// counterexample drawn and a replay command that reproduces it.
func TestVerifyFailsWithEachViolation(t *testing.T) {
	r := &recorder{}
	dir := t.TempDir()
	rep := verishaketest.Verify(r, protocol.Patent(), verishaketest.CounterexampleDir(dir), verishaketest.Quick(), verishaketest.Only("explore: network faults", "sim: no faults"),
		verishaketest.MaxHandshakes(1000), verishaketest.AllowUnknown())
	require.False(t, rep.Holds())
	var failed []string
	replay := regexp.MustCompile(`\nreplay: verishake replay (\S+)$`)
	for _, msg := range r.errors {
		m := regexp.MustCompile(`^verishaketest: patent: (\S+) violated`).FindStringSubmatch(msg)
		require.NotNil(t, m, msg)
		failed = append(failed, m[1])
		require.Contains(t, msg, "\n```mermaid\nsequenceDiagram\n", msg)
		if strings.Contains(msg, "(explore: ") {
			// The explorer's violation is at a step of the diagram (a
			// simulation's DELIVER is found when the run ends).
			require.Contains(t, msg, m[1]+" VIOLATED", "the diagram marks the violation: %s", msg)
		}
		file := replay.FindStringSubmatch(msg)
		require.NotNil(t, file, msg)
		f, err := os.Open(file[1])
		require.NoError(t, err)
		out, err := sim.Replay(f, file[1], sim.ReplayOptions{})
		f.Close()
		require.NoError(t, err, "the replay command reproduces %s", m[1])
		require.Equal(t, m[1], out.Violations[0].Property)
		require.True(t, strings.HasPrefix(file[1], dir), "the trace is in the counterexample directory: %s", file[1])
	}
	require.Equal(t, []string{protocol.AuthS, protocol.Cmd, protocol.Live, protocol.Deliver, protocol.Agree}, failed)
	require.Len(t, r.logs, 1, "FORGE, which no check run covers, is only logged")
	require.Contains(t, r.logs[0], "FORGE unknown")
}

func TestVerifyPassesHardenedAndFailsOnUnknown(t *testing.T) {
	if raceDetector {
		t.Skip("explores hardened: minutes under -race; the explorer's concurrency is raced in package sim/explore")
	}
	r := &recorder{}
	rep := verishaketest.Verify(r, protocol.Hardened(), append(cheap, verishaketest.CounterexampleDir(t.TempDir()))...)
	require.Empty(t, r.errors)
	require.True(t, rep.Holds())

	// With the fault-free simulation alone, FORGE (the forge simulation's)
	// and AGREE (the explorer's) are unknown: not a pass.
	r = &recorder{}
	verishaketest.Verify(r, protocol.Hardened(), verishaketest.CounterexampleDir(t.TempDir()),
		verishaketest.Only("sim: no faults"), verishaketest.MaxHandshakes(100))
	require.Len(t, r.errors, 2, "%q", r.errors)
	require.Contains(t, r.errors[0], "FORGE unknown")
	require.Contains(t, r.errors[1], "AGREE unknown")
}

// A profile with hooks gets its diagram, and is told that the trace cannot
// be replayed by the CLI (a trace records knobs; hooks are code).
func TestVerifyHookedProfile(t *testing.T) {
	if raceDetector {
		t.Skip("explores hardened: minutes under -race; the explorer's concurrency is raced in package sim/explore")
	}
	again := protocol.Variant{Name: "run-any-command", Hooks: protocol.Hooks{
		CommandSeq: func(protocol.Client, *protocol.Ext, protocol.Message, bool) bool { return true }}}
	r := &recorder{}
	verishaketest.Verify(r, again.Of(protocol.Hardened()),
		append(cheap, verishaketest.Named(again.Name), verishaketest.CounterexampleDir(t.TempDir()))...)
	require.Len(t, r.errors, 1, "%q", r.errors)
	require.Contains(t, r.errors[0], "CMD violated")
	require.Contains(t, r.errors[0], "sequenceDiagram")
	require.Contains(t, r.errors[0], "replay: re-run this test")
}

func TestOnlyNamesAnUnknownCheck(t *testing.T) {
	_, err := verishaketest.Check(protocol.Hardened(), verishaketest.Only("explore: everything"))
	require.ErrorContains(t, err, `Only: no check "explore: everything"`)
	require.Equal(t, 11, len(verishaketest.Checks()), "verify's four explorations and seven simulations")
	require.Equal(t, 10, len(verishaketest.QuickChecks()), "the quicker plan's three explorations and the same seven simulations")
	_, err = verishaketest.Check(protocol.Hardened(), verishaketest.Only("explore: network faults"))
	require.ErrorContains(t, err, "no check", "the quicker plan's names need Quick")
}

// The demonstration: a module of a designer's own, outside this
// repository (a replace directive points at it), uses the helper in its
// tests on hardened, which passes, and on a variant of its own that loses
// CMD, which fails with the counterexample in `go test`'s output.
func TestHelperInAnExternalModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a module's tests in a subprocess")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	repo, err := filepath.Abs("..")
	require.NoError(t, err)
	dir := t.TempDir()
	gomod := "module example.com/designer\n\ngo 1.26.0\n\nrequire github.com/verishake/verishake v0.0.0\n\n" +
		"replace github.com/verishake/verishake => " + repo + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644))
	sum, err := os.ReadFile(filepath.Join(repo, "go.sum"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "designer_test.go"), []byte(externalTest), 0o644))

	cmd := exec.Command(goTool, "test", "-count=1", "-v", ".")
	cmd.Dir = dir
	// The module cache has every dependency: never the network.
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off", "GOTOOLCHAIN=local")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "the broken variant fails the module's tests:\n%s", out)
	text := string(out)
	require.Contains(t, text, "--- PASS: TestHardenedKeepsEveryProperty")
	require.Contains(t, text, "--- FAIL: TestFireAndForgetCommands")
	require.Contains(t, text, "hardened+fire-and-forget-commands: CMD violated (explore: network faults)")
	require.Contains(t, text, "sequenceDiagram")
	require.Contains(t, text, "CMD VIOLATED")
	require.Regexp(t, `replay: verishake replay \S+fire-and-forget-commands-faults-CMD\.jsonl`, text)
	require.Equal(t, 1, strings.Count(text, " violated ("), "only CMD is lost:\n%s", text)
}

const externalTest = `package designer_test

import (
	"testing"

	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/verishaketest"
)

var cheap = []verishaketest.Option{
	verishaketest.Quick(), verishaketest.Only("explore: network faults", "sim: no faults", "sim: adversary forge"),
	verishaketest.MaxHandshakes(500),
}

func TestHardenedKeepsEveryProperty(t *testing.T) {
	verishaketest.Verify(t, protocol.Hardened(), append(cheap, verishaketest.CounterexampleDir(t.TempDir()))...)
}

// The designer's own change: commands without sequence numbers.
var fireAndForget = protocol.Variant{Name: "fire-and-forget-commands",
	Apply: func(p *protocol.Profile) { p.CommandSeq = false }}

func TestFireAndForgetCommands(t *testing.T) {
	verishaketest.Verify(t, fireAndForget.Of(protocol.Hardened()),
		append(cheap, verishaketest.Named(fireAndForget.Name), verishaketest.CounterexampleDir(t.TempDir()))...)
}
`

// Explore fails the test once per violated property, with the steps of
// its shortest counterexample; a model that keeps its properties passes.
func TestExploreFailsWithTheCounterexample(t *testing.T) {
	r := &recorder{}
	rep := verishaketest.Explore(r, lock{})
	require.Len(t, r.errors, 1, "%q", r.errors)
	require.Equal(t, "verishaketest: MUTEX violated: both processes are in the critical section\n"+
		"counterexample, 4 steps:\n  1. process 0 moves\n  2. process 1 moves\n  3. process 0 moves\n  4. process 1 moves", r.errors[0])
	require.Equal(t, engine.Violated, rep.Verdict("MUTEX"))

	r = &recorder{}
	rep = verishaketest.Explore(r, lock{atomic: true}, verishaketest.Describe(func(s step) string { return fmt.Sprint("P", int(s)) }))
	require.Empty(t, r.errors)
	require.Equal(t, engine.Holds, rep.Verdict("MUTEX"))
	require.True(t, rep.Complete)
}

// A search cut short proves nothing: the property is unknown, which fails
// the test unless AllowUnknown, which logs it.
func TestExploreCutShortIsUnknown(t *testing.T) {
	r := &recorder{}
	verishaketest.Explore(r, lock{atomic: true}, verishaketest.MaxStates(1))
	require.Len(t, r.errors, 1, "%q", r.errors)
	require.Contains(t, r.errors[0], "MUTEX unknown: the search was cut short (max states)")
	r = &recorder{}
	verishaketest.Explore(r, lock{atomic: true}, verishaketest.MaxStates(1), verishaketest.AllowUnknown())
	require.Empty(t, r.errors)
	require.Len(t, r.logs, 1)
}

// Options that mean nothing to Explore, and a Describe of another action
// type, fail the test rather than being ignored.
func TestExploreRefusesOptionsItCannotApply(t *testing.T) {
	r := &recorder{}
	verishaketest.Explore(r, lock{}, verishaketest.Only("explore: network faults"))
	require.Len(t, r.errors, 1)
	require.Contains(t, r.errors[0], "are for Verify and Check")
	r = &recorder{}
	verishaketest.Explore(r, lock{}, verishaketest.Describe(func(s string) string { return s }))
	require.Len(t, r.errors, 1)
	require.Contains(t, r.errors[0], "Describe's function takes func(string) string")
	_, err := verishaketest.Check(protocol.Hardened(), verishaketest.Describe(func(s step) string { return "" }))
	require.ErrorContains(t, err, "Describe is for Explore")
}
