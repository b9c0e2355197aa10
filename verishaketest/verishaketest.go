// Package verishaketest puts the checker inside a Go test. Verify runs
// what `verishake verify` runs on a profile of the handshake (a shipped
// one, or one changed by a variant of the caller's own, knobs or hooks)
// and fails the test with each property it loses, the shortest
// counterexample drawn as a Mermaid sequence diagram, and the command that
// replays it:
//
//	func TestMyProfileKeepsEveryProperty(t *testing.T) {
//		p := myVariant.Of(protocol.Hardened())
//		verishaketest.Verify(t, p, verishaketest.Named(myVariant.Name))
//	}
//
// By default it runs everything verify runs (tens of seconds on 2 cores
// for hardened); Only and MaxHandshakes make a cheaper test of a subset.
//
// Explore does the same for any model of package engine: it searches the
// model's states and fails the test with each violated property and the
// steps of its shortest counterexample.
package verishaketest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/verishake/verishake/internal/verifier"
	"github.com/verishake/verishake/protocol"
)

// TB is the part of testing.TB that Verify and Explore use; *testing.T
// and *testing.B are TBs.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
	Logf(format string, args ...any)
}

// Option changes what Verify, Check and Explore run.
type Option func(*settings)

type settings struct {
	name         string
	only         []string
	handshakes   int
	maxStates    int
	cexDir       string
	allowUnknown bool
	quick        bool
	describe     any // Explore's func(A) string
}

// Named names the variant the profile is, in reports and counterexample
// file names (default: none, as for a shipped profile). Verify and Check
// only.
func Named(variant string) Option { return func(s *settings) { s.name = variant } }

// Quick runs verify's quicker plan: its simulations after explorations a
// third the size, most with one client (QuickChecks names them). Repair
// runs the same plan. Verify and Check only.
func Quick() Option { return func(s *settings) { s.quick = true } }

// Only runs just the named checks of verify (see Checks; with Quick,
// QuickChecks), for a cheaper
// test. Properties no check covers are then unknown: see AllowUnknown.
// Verify and Check only.
func Only(checks ...string) Option {
	return func(s *settings) { s.only = append(s.only, checks...) }
}

// MaxHandshakes caps every simulation at n handshakes (verify runs 2 000
// to 20 000): cheaper, and less likely to meet a rare violation. Verify
// and Check only.
func MaxHandshakes(n int) Option { return func(s *settings) { s.handshakes = n } }

// MaxStates cuts each exploration short after n states (verify: 20
// million; Explore: no limit); a cut search leaves its properties unknown.
func MaxStates(n int) Option { return func(s *settings) { s.maxStates = n } }

// CounterexampleDir is where Verify writes counterexample traces. The
// default is verify's, verishake-cex, under the system's temporary
// directory here: not the test's TempDir, which is removed when the test
// ends, with the files its failure message tells how to replay. Verify
// and Check only.
func CounterexampleDir(dir string) Option { return func(s *settings) { s.cexDir = dir } }

// AllowUnknown logs properties left unknown (a search cut short, or no
// check run that covers them) instead of failing the test on them. Without
// it an unknown verdict fails, as it makes verify exit 3: it is not a pass.
func AllowUnknown() Option { return func(s *settings) { s.allowUnknown = true } }

// Checks lists the names of the checks verify runs, in order, for Only.
func Checks() []string { return namesOf(verifier.DefaultPlan(protocol.Hardened(), "")) }

// QuickChecks lists the names of the checks Quick runs, in order, for Only.
func QuickChecks() []string { return namesOf(verifier.QuickPlan(protocol.Hardened(), "")) }

func namesOf(plan verifier.Plan) []string {
	var names []string
	for _, c := range plan.Checks {
		names = append(names, c.Name)
	}
	return names
}

// Report is what Verify and Check found: one verdict per property, in the
// order of docs/properties.md.
type Report struct {
	Profile  string
	Variant  string
	Verdicts []Verdict
}

// Verdict is one property's verdict.
type Verdict struct {
	Property string
	Verdict  string // holds, violated or unknown
	Reason   string
	By       string // the checks that decided it
	// Steps is the explorer's counterexample length (0 for a simulation's).
	Steps int
	// Trace is the counterexample's trace file, Replay the command that
	// re-runs it, Diagram its Mermaid sequence diagram; empty unless the
	// property is violated.
	Trace, Replay, Diagram string
}

// Holds reports whether every property holds.
func (r Report) Holds() bool {
	return !slices.ContainsFunc(r.Verdicts, func(v Verdict) bool { return v.Verdict != verifier.VerdictHolds })
}

// Violated lists the verdicts of the properties violated.
func (r Report) Violated() []Verdict {
	var out []Verdict
	for _, v := range r.Verdicts {
		if v.Verdict == verifier.VerdictViolated {
			out = append(out, v)
		}
	}
	return out
}

// Verify runs verify's checks on p and fails t with every property
// violated (and, unless AllowUnknown, every one unknown): the reason, the
// counterexample's sequence diagram and the command that replays it. It
// returns the report for further assertions.
func Verify(t TB, p protocol.Profile, opts ...Option) Report {
	t.Helper()
	s := settingsOf(opts)
	if s.cexDir == "" {
		s.cexDir = filepath.Join(os.TempDir(), "verishake-cex")
	}
	rep, err := check(p, s)
	if err != nil {
		t.Errorf("verishaketest: verify %s: %v", p.Name, err)
		return rep
	}
	for _, v := range rep.Verdicts {
		switch v.Verdict {
		case verifier.VerdictViolated:
			t.Errorf("%s", v.failure(rep.Profile))
		case verifier.VerdictUnknown:
			unknown(t, s, fmt.Sprintf("verishaketest: %s: %s unknown: no check that covers it finished (a search cut short, or none was run); not a pass", rep.Profile, v.Property))
		}
	}
	return rep
}

// unknown fails t with msg, or logs it under AllowUnknown.
func unknown(t TB, s settings, msg string) {
	t.Helper()
	if s.allowUnknown {
		t.Logf("%s", msg)
	} else {
		t.Errorf("%s", msg)
	}
}

// Check runs verify's checks on p, as Verify does, and returns what they
// found without judging it. Counterexamples are written under
// CounterexampleDir (none are written without it).
func Check(p protocol.Profile, opts ...Option) (Report, error) {
	return check(p, settingsOf(opts))
}

func settingsOf(opts []Option) settings {
	var s settings
	for _, o := range opts {
		o(&s)
	}
	return s
}

func (v Verdict) failure(profile string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "verishaketest: %s: %s violated", profile, v.Property)
	if v.By != "" {
		fmt.Fprintf(&b, " (%s)", v.By)
	}
	if v.Reason != "" {
		fmt.Fprintf(&b, ": %s", v.Reason)
	}
	if v.Steps > 0 {
		fmt.Fprintf(&b, "\ncounterexample, %d steps:", v.Steps)
	} else {
		b.WriteString("\ncounterexample:")
	}
	if v.Diagram != "" {
		fmt.Fprintf(&b, "\n```mermaid\n%s```", v.Diagram)
	}
	if v.Replay != "" {
		fmt.Fprintf(&b, "\nreplay: %s", v.Replay)
	}
	return b.String()
}

func check(p protocol.Profile, s settings) (Report, error) {
	if s.describe != nil {
		return Report{}, fmt.Errorf("verishaketest: Describe is for Explore, not Verify or Check")
	}
	plan, known := verifier.DefaultPlan(p, s.name), Checks()
	if s.quick {
		plan, known = verifier.QuickPlan(p, s.name), QuickChecks()
	}
	if s.maxStates > 0 {
		plan.MaxStates = s.maxStates
	}
	if len(s.only) > 0 {
		for _, name := range s.only {
			if !slices.Contains(known, name) {
				return Report{}, fmt.Errorf("verishaketest: Only: no check %q (want one of %s)", name, strings.Join(known, "; "))
			}
		}
		plan.Checks = slices.DeleteFunc(plan.Checks, func(c verifier.Check) bool { return !slices.Contains(s.only, c.Name) })
	}
	if s.handshakes > 0 {
		for _, c := range plan.Checks {
			if c.Sim != nil {
				c.Sim.Handshakes = min(c.Sim.Handshakes, s.handshakes)
			}
		}
	}
	rep := Report{Profile: p.Name, Variant: s.name}
	vr, err := verifier.Run(context.Background(), p, s.name, s.cexDir, plan)
	if err != nil {
		return rep, fmt.Errorf("verishaketest: %w", err)
	}
	for _, pr := range vr.Properties {
		v := Verdict{Property: pr.ID, Verdict: pr.Verdict, Reason: pr.Reason, By: pr.By, Steps: pr.Steps}
		if pr.Verdict == verifier.VerdictViolated && s.cexDir != "" {
			if err := v.illustrate(p, plan, pr, s.cexDir); err != nil {
				return rep, err
			}
		}
		rep.Verdicts = append(rep.Verdicts, v)
	}
	return rep, nil
}

// illustrate gives v, violated, its trace, diagram and replay command.
func (v *Verdict) illustrate(p protocol.Profile, plan verifier.Plan, pr verifier.Property, cexDir string) error {
	switch c := pr.Counterexample; {
	case c != nil && c.File != "":
		v.Trace = c.File
	default:
		// A simulation found it: re-run it with a trace to draw.
		var err error
		if v.Trace, err = simTrace(plan, pr, cexDir); err != nil {
			return err
		}
	}
	if v.Trace == "" {
		return nil
	}
	var err error
	if v.Diagram, err = diagram(v.Trace); err != nil {
		return err
	}
	v.Replay = "verishake replay " + verifier.ShellQuote(v.Trace)
	if !p.Hooks.IsZero() {
		// A trace records knobs; hooks are code.
		v.Replay = "re-run this test: the profile has hooks, which a trace cannot carry for `verishake replay`"
	}
	return nil
}
