// Package verifier runs what `verishake verify` and `verishake check` run:
// explorations of the handshake within bounds and simulations of it,
// merged into one verdict per property. The CLI prints and exits on its
// reports; package verishaketest fails tests on them; `verishake repair`
// and `verify --baseline` compare them. It is internal: its types are the
// CLI's JSON reports, whose contract is the README's and
// docs/verdict.schema.json's, not a Go API.
package verifier

import "github.com/verishake/verishake/protocol"

// The three verdicts a property can get.
const (
	VerdictHolds    = "holds"
	VerdictViolated = "violated"
	VerdictUnknown  = "unknown" // a search cut short, or nothing that covers it
)

// Properties is the verdict table's order (docs/properties.md).
var Properties = []string{protocol.AuthC, protocol.AuthS, protocol.Cmd, protocol.Forge, protocol.Bounded, protocol.Live, protocol.Deliver, protocol.Agree}

// Property is one property's verdict in a report.
type Property struct {
	ID string `json:"id"`
	// Holds is true when the property holds, false when it is violated,
	// and null when it is unknown (a search cut short): never a pass.
	Holds   *bool  `json:"holds"`
	Verdict string `json:"verdict"` // holds, violated or unknown (incomplete search)
	Reason  string `json:"reason,omitempty"`
	// Counterexample is what reproduces a violation: the shortest
	// counterexample's trace for `verishake replay`, or the command that
	// finds it again.
	Counterexample *Counterexample `json:"counterexample,omitempty"`
	// By names the check that decided: "explore" or a simulation.
	By string `json:"by,omitempty"`
	// Steps is the length of the explorer's shortest counterexample,
	// whether or not a trace of it was written; 0 for a simulation's
	// (no shortest) and when nothing is violated. The JSON has it in
	// Counterexample.
	Steps int `json:"-"`
	// cut: some check that covers the property could not finish (verify
	// keeps it unknown whatever other checks found).
	cut bool
}

// Counterexample is how a violation is reproduced, the same object in
// every command's --json (docs/verdict.schema.json).
type Counterexample struct {
	// File is the trace to replay; empty when no trace was written (a
	// simulation without --trace: Replay then re-runs it with one).
	File string `json:"file,omitempty"`
	// Steps counts the steps up to and including the violating one (0:
	// not counted, as for validate, which gives the trace's Line).
	Steps int `json:"steps"`
	// Line is the line of File where validate found the violation.
	Line     int    `json:"line,omitempty"`
	Property string `json:"property"`
	// Replay is a shell command that reproduces the violation.
	Replay string `json:"replay"`
}

// Set gives r verdict v, and Holds with it.
func (r *Property) Set(v string) {
	r.Verdict = v
	switch v {
	case VerdictHolds, VerdictViolated:
		holds := v == VerdictHolds
		r.Holds = &holds
	default:
		r.Holds = nil
	}
}

// Held reports whether r's verdict is holds.
func (r *Property) Held() bool { return r.Holds != nil && *r.Holds }

// The outcomes of a set of verdicts, as Status reports them: the CLI's
// exit statuses.
const (
	StatusOK       = 0 // every property holds
	StatusViolated = 1 // some property is violated
	StatusUnknown  = 3 // none is violated, some is unknown
)

// Status is StatusOK when every property holds, StatusViolated when one is
// violated, and StatusUnknown when none is violated but some are unknown:
// an incomplete search is never a pass.
func Status(props []Property) int {
	status := StatusOK
	for _, p := range props {
		switch p.Verdict {
		case VerdictViolated:
			return StatusViolated
		case VerdictUnknown:
			status = StatusUnknown
		}
	}
	return status
}

func ptr[T any](v T) *T { return &v }
