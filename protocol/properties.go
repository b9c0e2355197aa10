package protocol

import "fmt"

// Property identifiers, as in docs/properties and the CLI's reports.
const (
	AuthC   = "AUTH-C"
	AuthS   = "AUTH-S"
	Cmd     = "CMD"
	Forge   = "FORGE"
	Bounded = "BOUNDED"
	Live    = "LIVE"
	Agree   = "AGREE"
	Deliver = "DELIVER"
)

// Violation is a claim that breaks a property.
type Violation struct {
	Property string
	Claim    Claim
	Reason   string
}

func (v Violation) Error() string {
	return fmt.Sprintf("%s violated by %v: %s", v.Property, v.Claim, v.Reason)
}
