package trace

import (
	"fmt"
	"slices"
)

// Step names: a Record's Step field. The simulator's step kinds (package
// sim's StepKind) print as these; a real run takes only the machine steps
// (StepDeliver, StepClientTimer, StepServerTimer, StepStart, StepIssue).
const (
	StepDeliver     = "deliver"      // a message in flight handed to its receiver
	StepDrop        = "drop"         // a message in flight lost
	StepDup         = "dup"          // a message in flight copied
	StepCorrupt     = "corrupt"      // a frame byte of a message in flight flipped
	StepClientTimer = "client_timer" // a client's timer fired
	StepServerTimer = "server_timer" // the server's timer for a RegID fired
	StepStart       = "start"        // a client starts a handshake
	StepIssue       = "issue"        // the server issues a command
	StepInject      = "inject"       // the adversary puts a message on the network
	StepFlood       = "flood"        // the adversary sends Hellos from forged RegIDs at once
	StepInsider     = "insider"      // the insider's own handshake puts a message on the network
)

var stepNames = []string{StepDeliver, StepDrop, StepDup, StepCorrupt, StepClientTimer, StepServerTimer,
	StepStart, StepIssue, StepInject, StepFlood, StepInsider}

// StepNames lists every step name, in the order of package sim's StepKind.
func StepNames() []string { return slices.Clone(stepNames) }

// CheckStep reports an error naming s if it is not a step name.
func CheckStep(s string) error {
	if !slices.Contains(stepNames, s) {
		return fmt.Errorf("unknown step %q", s)
	}
	return nil
}
