package verishaketest_test

import (
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/verishaketest"
)

// A designer's variant of hardened, checked by the explorer under network
// faults alone (verify's first check, a fraction of a second): without
// retransmissions a lost message leaves a handshake that never ends.
func ExampleCheck() {
	noRetries := protocol.Variant{Name: "no-retries", Apply: func(p *protocol.Profile) { p.Retries = 0 }}
	rep, err := verishaketest.Check(noRetries.Of(protocol.Hardened()), verishaketest.Named(noRetries.Name),
		verishaketest.Quick(), verishaketest.Only("explore: network faults"))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, v := range rep.Violated() {
		fmt.Printf("%s violated, %d steps\n", v.Property, v.Steps)
	}
	// Output:
	// AGREE violated, 6 steps
}

// printer is a verishaketest.TB that prints each failure's property and
// what it comes with, where a test would fail; a test passes its
// *testing.T.
type printer struct{}

func (printer) Helper() {}
func (printer) Errorf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if m := violated.FindStringSubmatch(msg); m != nil {
		fmt.Printf("%s violated; diagram %t, replay %t\n", m[1],
			strings.Contains(msg, "sequenceDiagram"), strings.Contains(msg, "\nreplay: verishake replay "))
		return
	}
	fmt.Println(msg)
}

var violated = regexp.MustCompile(`^verishaketest: [^:]+: (\S+) violated`)

func (printer) Logf(format string, args ...any) {}

// Verify fails the test with each property violated, its counterexample's
// sequence diagram and the replay command. The patent, under verify's
// network-faults exploration and fault-free simulation (the others left
// out to keep the example short, the simulation cut to 1 000
// handshakes), loses five properties; FORGE is left unknown, which
// AllowUnknown only logs.
func ExampleVerify() {
	dir, err := os.MkdirTemp("", "verishaketest-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	verishaketest.Verify(printer{}, protocol.Patent(), verishaketest.CounterexampleDir(dir),
		verishaketest.Quick(), verishaketest.Only("explore: network faults", "sim: no faults"), verishaketest.MaxHandshakes(1000),
		verishaketest.AllowUnknown())
	// Output:
	// AUTH-S violated; diagram true, replay true
	// CMD violated; diagram true, replay true
	// LIVE violated; diagram true, replay true
	// DELIVER violated; diagram true, replay true
	// AGREE violated; diagram true, replay true
}
