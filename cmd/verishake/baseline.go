package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Baselines let CI ask "did this change make anything worse?" rather than
// "does everything hold?": `verify --write-baseline FILE` records each
// property's verdict and counterexample length, and `verify --baseline FILE`
// compares a run with them. A regression is a property that held and no
// longer holds, a counterexample that got shorter (the attack got easier),
// or a verdict that was decided (held or violated) and is now unknown (a
// search that finished is now cut short). Anything else that changed is
// printed but is not a regression: known violations may remain.

// baselineFormat and baselineVersion open every baseline file; a file of
// another format or version is refused, never guessed at.
const (
	baselineFormat  = "verishake-baseline"
	baselineVersion = 1
)

// baselineFile is the file --write-baseline writes and --baseline reads.
type baselineFile struct {
	Format     string             `json:"format"`
	Version    int                `json:"version"`
	Profile    string             `json:"profile"`
	Variant    string             `json:"variant"`
	Properties []baselineProperty `json:"properties"`
}

// baselineProperty is one property's recorded verdict. Steps is the
// explorer's counterexample length; 0 when the property holds, is unknown,
// or was violated in a simulation, whose counterexample has no length the
// explorer made shortest.
type baselineProperty struct {
	ID      string `json:"id"`
	Verdict string `json:"verdict"`
	Steps   int    `json:"steps,omitempty"`
}

// baselineOf records rep.
func baselineOf(rep verifyReport) baselineFile {
	b := baselineFile{Format: baselineFormat, Version: baselineVersion, Profile: rep.Profile, Variant: rep.Variant}
	for _, p := range rep.Properties {
		b.Properties = append(b.Properties, baselineProperty{ID: p.ID, Verdict: p.Verdict, Steps: p.Steps})
	}
	return b
}

// readBaseline reads and validates a baseline file. Its errors name the
// file and the field that is wrong.
func readBaseline(path string) (baselineFile, error) {
	var b baselineFile
	raw, err := os.ReadFile(path)
	if err != nil {
		return b, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return b, fmt.Errorf("%s: not a baseline file: %w", path, err)
	}
	if dec.More() {
		return b, fmt.Errorf("%s: not a baseline file: more than one JSON value", path)
	}
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("%s: field %s: %s", path, field, fmt.Sprintf(format, args...))
	}
	if b.Format != baselineFormat {
		return b, bad("format", "%q, want %q", b.Format, baselineFormat)
	}
	if b.Version != baselineVersion {
		return b, bad("version", "%d, want %d (written by another verishake?)", b.Version, baselineVersion)
	}
	if b.Profile == "" {
		return b, bad("profile", "missing")
	}
	if len(b.Properties) == 0 {
		return b, bad("properties", "empty")
	}
	seen := map[string]bool{}
	for i, p := range b.Properties {
		field := fmt.Sprintf("properties[%d]", i)
		switch {
		case !slices.Contains(allProperties, p.ID):
			return b, bad(field+".id", "unknown property %q (want one of %s)", p.ID, strings.Join(allProperties, ", "))
		case seen[p.ID]:
			return b, bad(field+".id", "%s listed twice", p.ID)
		case p.Verdict != verdictHolds && p.Verdict != verdictViolated && p.Verdict != verdictUnknown:
			return b, bad(field+".verdict", "%q, want holds, violated or unknown", p.Verdict)
		case p.Steps < 0:
			return b, bad(field+".steps", "%d is negative", p.Steps)
		case p.Steps > 0 && p.Verdict != verdictViolated:
			return b, bad(field+".steps", "%d for a property that is %s (only a violation has a counterexample)", p.Steps, p.Verdict)
		}
		seen[p.ID] = true
	}
	return b, nil
}

// writeBaseline writes b to path through a temporary file in the same
// directory, renamed over it: an interrupted write leaves the old baseline,
// never half a file.
func writeBaseline(path string, b baselineFile) error {
	out, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".verishake-baseline-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if _, err := tmp.Write(append(out, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// How a property's verdict moved from the baseline to this run.
const (
	changeSame        = "same"
	changeRegression  = "regression"
	changeImprovement = "improvement"
	changeOther       = "changed" // neither better nor worse by the rules above
)

// baselineComparison is a run compared with a baseline: one entry per
// property, in the verdict table's order, for the text report, the JSON
// report and the JUnit report alike.
type baselineComparison struct {
	File string `json:"file"`
	// Profile and Variant are the baseline's (the run's are the report's).
	Profile     string           `json:"profile"`
	Variant     string           `json:"variant"`
	Regressions int              `json:"regressions"`
	Properties  []baselineChange `json:"properties"`
}

// baselineChange is one property then and now.
type baselineChange struct {
	ID       string `json:"id"`
	Was      string `json:"was"`
	WasSteps int    `json:"was_steps,omitempty"`
	Now      string `json:"now"`
	NowSteps int    `json:"now_steps,omitempty"`
	// Change is same, regression, improvement or changed; Why says it in
	// words, e.g. "no longer holds".
	Change string `json:"change"`
	Why    string `json:"why,omitempty"`
}

// compareBaseline compares rep with b, recorded in file.
func compareBaseline(file string, b baselineFile, rep verifyReport) *baselineComparison {
	cmp := &baselineComparison{File: file, Profile: b.Profile, Variant: b.Variant}
	was := map[string]baselineProperty{}
	for _, p := range b.Properties {
		was[p.ID] = p
	}
	for _, p := range rep.Properties {
		old, recorded := was[p.ID]
		c := baselineChange{ID: p.ID, Was: old.Verdict, WasSteps: old.Steps, Now: p.Verdict, NowSteps: p.Steps}
		c.Change, c.Why = judgeChange(old, recorded, c)
		if c.Change == changeRegression {
			cmp.Regressions++
		}
		cmp.Properties = append(cmp.Properties, c)
	}
	return cmp
}

// judgeChange applies the rules: see the comment at the top of the file.
func judgeChange(old baselineProperty, recorded bool, c baselineChange) (change, why string) {
	switch {
	case !recorded:
		return changeOther, "not in the baseline"
	case c.Was == verdictHolds && c.Now == verdictViolated:
		return changeRegression, "no longer holds"
	case c.Was != verdictUnknown && c.Now == verdictUnknown:
		return changeRegression, "was " + c.Was + ", now unknown: a search that finished is now cut short"
	case c.Was == verdictViolated && c.Now == verdictViolated && old.Steps > 0 && c.NowSteps > 0 && c.NowSteps < old.Steps:
		return changeRegression, fmt.Sprintf("counterexample shorter: %d steps, was %d (the attack got easier)", c.NowSteps, old.Steps)
	case c.Was == verdictViolated && c.Now == verdictHolds:
		return changeImprovement, "now holds"
	case c.Was == verdictViolated && c.Now == verdictViolated && old.Steps > 0 && c.NowSteps > old.Steps:
		return changeImprovement, fmt.Sprintf("counterexample longer: %d steps, was %d", c.NowSteps, old.Steps)
	case c.Was == verdictUnknown && c.Now != verdictUnknown:
		return changeOther, "decided: " + c.Now + ", was unknown"
	case c.Was == c.Now && (c.WasSteps == c.NowSteps || c.WasSteps == 0 || c.NowSteps == 0):
		// A simulation's counterexample and the explorer's are not
		// compared by length.
		return changeSame, ""
	}
	return changeOther, fmt.Sprintf("%s, was %s", c.Now, c.Was)
}

// print writes what changed, one line per property that did.
func (cmp *baselineComparison) print(w io.Writer) {
	name := displayName(cmp.Profile, cmp.Variant)
	changed := 0
	for _, c := range cmp.Properties {
		if c.Change == changeSame {
			continue
		}
		if changed == 0 {
			fmt.Fprintf(w, "against the baseline %s (%s):\n", cmp.File, name)
		}
		changed++
		mark := ""
		if c.Change == changeRegression {
			mark = "REGRESSION: "
		}
		fmt.Fprintf(w, "  %-8s %s%s\n", c.ID, mark, c.Why)
	}
	switch {
	case changed == 0:
		fmt.Fprintf(w, "no change against the baseline %s (%s)\n", cmp.File, name)
	case cmp.Regressions == 0:
		fmt.Fprintln(w, "no regression against the baseline")
	default:
		fmt.Fprintf(w, "%d regression(s) against the baseline\n", cmp.Regressions)
	}
}

// withJUnit adds the comparison to verify's JUnit document as a suite of
// its own, a test case "baseline <ID>" per property, failing on a
// regression.
func (cmp *baselineComparison) withJUnit(doc junitSuites) junitSuites {
	name := displayName(cmp.Profile, cmp.Variant)
	s := junitSuite{Name: "baseline " + cmp.File, Time: junitSeconds(0), Timestamp: junitNow(), Properties: []junitProperty{
		{"file", cmp.File}, {"profile", cmp.Profile}, {"variant", cmp.Variant}, {"regressions", fmt.Sprint(cmp.Regressions)},
	}}
	for _, c := range cmp.Properties {
		jc := junitCase{Class: "verishake.baseline." + name, Name: "baseline " + c.ID, Time: junitSeconds(0)}
		switch c.Change {
		case changeRegression:
			jc.Failure = &junitFailure{Type: "regression", Message: c.Why,
				Text: fmt.Sprintf("baseline %s: %s (steps %d); now %s (steps %d)", cmp.File, c.Was, c.WasSteps, c.Now, c.NowSteps)}
		case changeSame:
		default:
			jc.SystemOut = c.Change + ": " + c.Why
		}
		s.add(jc)
	}
	doc.Suites = append(doc.Suites, s)
	doc.Tests += s.Tests
	doc.Failures += s.Failures
	return doc
}

// baselineFlags are verify's --baseline and --write-baseline.
type baselineFlags struct {
	compareWith, writeTo string
	loaded               baselineFile
}

func addBaselineFlags(fs *flag.FlagSet) *baselineFlags {
	b := &baselineFlags{}
	fs.StringVar(&b.compareWith, "baseline", "", "compare with the verdicts recorded in FILE: exit 1 only on a regression (a property that held no longer does, a counterexample got shorter, a finished search is now cut short)")
	fs.StringVar(&b.writeTo, "write-baseline", "", "record each property's verdict and counterexample length in FILE, for --baseline")
	return b
}

// load reads and validates the baseline to compare with, and checks that
// the one to write can be written, before any work is done.
func (b *baselineFlags) load() error {
	if b.compareWith != "" {
		var err error
		if b.loaded, err = readBaseline(b.compareWith); err != nil {
			var perr *os.PathError
			if errors.As(err, &perr) {
				return fmt.Errorf("--baseline: %w", err)
			}
			return fmt.Errorf("--baseline %w", err)
		}
	}
	if b.writeTo != "" {
		dir := filepath.Dir(b.writeTo)
		probe, err := os.CreateTemp(dir, ".verishake-baseline-*")
		if err != nil {
			var perr *os.PathError
			if errors.As(err, &perr) {
				err = perr.Err
			}
			return fmt.Errorf("--write-baseline %s: cannot create a file in %s: %w", b.writeTo, dir, err)
		}
		probe.Close()
		os.Remove(probe.Name())
	}
	return nil
}

// compare is rep compared with the loaded baseline; nil without --baseline.
func (b *baselineFlags) compare(rep verifyReport) *baselineComparison {
	if b.compareWith == "" {
		return nil
	}
	return compareBaseline(b.compareWith, b.loaded, rep)
}

// write records rep with --write-baseline.
func (b *baselineFlags) write(rep verifyReport) error {
	if b.writeTo == "" {
		return nil
	}
	if err := writeBaseline(b.writeTo, baselineOf(rep)); err != nil {
		return fmt.Errorf("--write-baseline: %w", err)
	}
	return nil
}

// verifyWithBaseline is `verify --json --baseline`: the report and, under
// "baseline", the comparison.
type verifyWithBaseline struct {
	verifyReport
	Baseline *baselineComparison `json:"baseline,omitempty"`
}

// baselineStatus is verify's exit status: with a baseline, 1 on a
// regression and 0 otherwise, known violations or not; without one, the
// verdicts' status.
func baselineStatus(rep verifyReport, cmp *baselineComparison) int {
	if cmp == nil {
		return checkStatus(rep.Properties)
	}
	if cmp.Regressions > 0 {
		return exitViolation
	}
	return exitOK
}
