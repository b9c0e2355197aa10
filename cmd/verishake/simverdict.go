package main

import (
	"strings"

	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/sim"
	"github.com/verishake/verishake/transport"
)

// simReportJSON is `sim --json`: the simulator's report and its verdicts.
type simReportJSON struct {
	*sim.Report
	Properties []propertyResult `json:"properties"`
	// Coverage is --coverage's report.
	Coverage *simCoverage `json:"coverage,omitempty"`
}

// simProperties are the properties a simulation's monitors watch.
var simProperties = []string{protocol.AuthC, protocol.AuthS, protocol.Cmd, protocol.Forge, protocol.Bounded, protocol.Live, protocol.Deliver}

// simVerdicts turns a simulation's report into verdicts: a violation is
// violated; the run stops at its first, so what it had not seen broken by
// then is unknown, as it is after Ctrl-C; a run that ended keeps every
// property it watched (DELIVER only where it was asked: no message lost,
// no adversary move). trace is the run's --trace file, if any.
func simVerdicts(rep *sim.Report, trace string) []propertyResult {
	finished := rep.Stopped == "done" || rep.Stopped == "horizon"
	var out []propertyResult
	for _, id := range simProperties {
		r := propertyResult{ID: id, By: "sim"}
		r.Set(verdictUnknown)
		switch {
		case finished && (id != protocol.Deliver || rep.DeliverChecked):
			r.Set(verdictHolds)
		case id == protocol.Deliver && finished:
			r.Reason = "not asked of this run: a message was lost or the adversary moved"
		case rep.Stopped == "interrupted":
			r.Reason = "the run was interrupted"
		default:
			r.Reason = "the run stopped at its first violation"
		}
		for _, v := range rep.Violations {
			if v.Property == id {
				r.Set(verdictViolated)
				r.Reason = v.Reason
				r.Counterexample = &counterexample{Steps: int(v.Step), Property: id, Replay: rep.Replay}
				if trace != "" {
					r.Counterexample.File = trace
				}
				break
			}
		}
		out = append(out, r)
	}
	return out
}

// validateProperties are the properties validate checks over real traces:
// the claims of the clients present (AUTH-C, AUTH-S, CMD) and the server's
// slots (BOUNDED).
var validateProperties = []string{protocol.AuthC, protocol.AuthS, protocol.Cmd, protocol.Bounded}

// validateVerdicts turns a validation into verdicts. forbidden: the model
// forbids a step, so the traces are no behaviour of the model and nothing
// is known about its properties.
func validateVerdicts(rep *transport.ValidationReport, files []string, forbidden bool) []propertyResult {
	var out []propertyResult
	for _, id := range validateProperties {
		r := propertyResult{ID: id, By: "validate"}
		r.Set(verdictHolds)
		if forbidden {
			r.Set(verdictUnknown)
			r.Reason = "the traces are not a behaviour of the model"
		}
		if rep != nil {
			for _, v := range rep.Violations {
				if v.Violation.Property == id {
					r.Set(verdictViolated)
					r.Reason = v.Violation.Error()
					r.Counterexample = &counterexample{File: v.File, Line: v.Line, Property: id,
						Replay: "verishake validate " + quoteAll(files)}
					break
				}
			}
		}
		out = append(out, r)
	}
	return out
}

func quoteAll(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = shellQuote(a)
	}
	return strings.Join(q, " ")
}
