package main

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/verishake/verishake/protocol"
)

// JUnit XML as CI systems read it (Jenkins, GitLab, GitHub reporters): one
// test case per property, a violated property a failure whose type is the
// property and whose message is its reason, an unknown one skipped.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Class     string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// junitSeconds is JUnit's time: seconds, as a decimal to the microsecond
// (a check that takes under a millisecond still shows how long it took).
func junitSeconds(s float64) string { return fmt.Sprintf("%.6f", s) }

// propertyCase is one property's verdict as a test case.
func propertyCase(class string, p propertyResult, seconds float64) junitCase {
	c := junitCase{Class: class, Name: p.ID, Time: junitSeconds(seconds)}
	detail := []string{}
	if p.By != "" {
		detail = append(detail, "decided by "+p.By)
	}
	if p.Counterexample != nil {
		if p.Counterexample.File != "" {
			detail = append(detail, fmt.Sprintf("counterexample: %s (%d steps)", p.Counterexample.File, p.Counterexample.Steps))
		}
		detail = append(detail, "reproduce: "+p.Counterexample.Replay)
	}
	switch p.Verdict {
	case verdictViolated:
		c.Failure = &junitFailure{Type: p.ID, Message: p.Reason, Text: strings.Join(detail, "\n")}
	case verdictUnknown:
		why := "unknown: the search was cut short, or nothing covers the property"
		if p.Reason != "" {
			why = "unknown: " + p.Reason
		}
		c.Skipped = &junitSkipped{Message: why}
	default:
		c.SystemOut = strings.Join(detail, "\n")
	}
	return c
}

// add appends c to s, counting it.
func (s *junitSuite) add(c junitCase) {
	s.Tests++
	switch {
	case c.Failure != nil:
		s.Failures++
	case c.Skipped != nil:
		s.Skipped++
	}
	s.Cases = append(s.Cases, c)
}

// newSuites wraps suites in the document, with their totals.
func newSuites(name string, seconds float64, suites ...junitSuite) junitSuites {
	doc := junitSuites{Name: name, Time: junitSeconds(seconds), Suites: suites}
	for _, s := range suites {
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Skipped += s.Skipped
	}
	return doc
}

func junitNow() string { return time.Now().UTC().Format("2006-01-02T15:04:05") }

// checkSuites is check's report as JUnit: every property is decided by the
// one exploration, so each case takes its time.
func checkSuites(r checkReport) junitSuites {
	name := displayName(r.Profile, r.Variant)
	s := junitSuite{Name: "check " + name, Time: junitSeconds(r.Seconds), Timestamp: junitNow(), Properties: []junitProperty{
		{"profile", r.Profile}, {"variant", r.Variant}, {"adversary", r.Adversary},
		{"bounds", fmt.Sprintf("%+v", r.Bounds)}, {"states", fmt.Sprint(r.States)}, {"complete", fmt.Sprint(r.Complete)},
	}}
	for _, p := range r.Properties {
		s.add(propertyCase("verishake.check."+name, p, r.Seconds))
	}
	return newSuites("verishake check", r.Seconds, s)
}

// verifySuites is verify's report as JUnit: a property's time is that of
// the checks that decided it.
func verifySuites(r verifyReport) junitSuites {
	name := displayName(r.Profile, r.Variant)
	var total float64
	seconds := map[string]float64{}
	for _, c := range r.Checks {
		seconds[c.Name] = c.Seconds
		total += c.Seconds
	}
	s := junitSuite{Name: "verify " + name, Time: junitSeconds(total), Timestamp: junitNow(), Properties: []junitProperty{
		{"profile", r.Profile}, {"variant", r.Variant}, {"states", fmt.Sprint(r.States)},
	}}
	for _, p := range r.Properties {
		var t float64
		for _, by := range strings.Split(p.By, "; ") {
			t += seconds[by]
		}
		s.add(propertyCase("verishake.verify."+name, p, t))
	}
	return newSuites("verishake verify", total, s)
}

// variantSuites is `variants --check` as JUnit: one case per variant,
// passing when the checker caught the property the variant breaks.
func variantSuites(rows []variantResult) junitSuites {
	s := junitSuite{Name: "variants", Timestamp: junitNow(), Properties: []junitProperty{{"profile", protocol.Hardened().Name}}}
	var total float64
	for _, r := range rows {
		total += r.Seconds
		c := junitCase{Class: "verishake.variants", Name: r.Name, Time: junitSeconds(r.Seconds)}
		var verdict propertyResult
		if len(r.Properties) > 0 {
			verdict = r.Properties[0]
		}
		if r.Caught {
			c.SystemOut = fmt.Sprintf("%s caught by %s: %s", r.Expected, r.Checker, verdict.Reason)
			if verdict.Counterexample != nil {
				c.SystemOut += "\nreproduce: " + verdict.Counterexample.Replay
			}
		} else {
			c.Failure = &junitFailure{Type: r.Expected,
				Message: fmt.Sprintf("%s should break %s, and %s did not find it (%s)", r.Name, r.Expected, r.Checker, verdict.Verdict),
				Text:    r.Statistic}
		}
		s.add(c)
	}
	s.Time = junitSeconds(total)
	return newSuites("verishake variants --check", total, s)
}

// writeJUnit writes doc to path.
func writeJUnit(path string, doc junitSuites) error {
	return writeFile(path, func(w io.Writer) error {
		if _, err := io.WriteString(w, xml.Header); err != nil {
			return err
		}
		enc := xml.NewEncoder(w)
		enc.Indent("", "  ")
		if err := enc.Encode(doc); err != nil {
			return err
		}
		_, err := io.WriteString(w, "\n")
		return err
	})
}
