// Package trace is the JSON Lines trace schema that the simulator, the
// exhaustive explorer's counterexamples and real runs over package
// transport share: a Header line, one Record per step, an End line, and
// in a real run's server trace a Retract line for a step the session
// store refused.
//
// It holds the schema and nothing that runs it: the line types; the
// conversions between protocol's values and their trace form (MsgOf,
// Msg.Message, ClaimOf, Claim.Claim, ParseKind, ParseToken); strict
// decoding of each line (LineType, DecodeHeader, DecodeRecord,
// DecodeRetract, DecodeEnd) with the checks a reader makes on a step
// before trusting it (Record.Check); a Reader of whole traces whose
// errors name the line and the field; and a deterministic Writer. Replaying a trace is its
// reader's job: package sim re-runs simulator and explorer traces through
// its world, package transport validates real runs against protocol's
// machines. Neither needs the other to read a trace, so a service that
// embeds transport does not link the simulator.
//
// Schema is the version a header names; docs/simulation.md describes
// every field.
package trace
