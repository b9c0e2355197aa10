// Package protocol is the client-token / server-token handshake of patent
// CN104038490 as sans-IO state machines.
//
// A Client and a server Slot (one per RegID, kept by a Server) are small
// value types. They never read a clock, start a goroutine or draw global
// randomness: every input carries the time it happens at, fresh tokens come
// from a TokenSource passed in, and every step returns an Output holding the
// message to send, the claims made and the next deadline. The same machines
// therefore run in a real service, in the simulator and in the exhaustive
// explorer.
//
// Control flow is an fsm table compiled from the Profile: the tables returned
// by ClientSpec and ServerSpec are the model, and docs/protocol.md is
// generated from them. Data checks (token equality, sequence numbers, expiry)
// decide which event fires; a rejected input fires nothing and leaves the
// machine unchanged, with the reason in Output.Err.
//
// Claims follow Lowe's placement for a responder that sends the last
// message: the client claims Running when it first sends Confirm1 and Commit
// when it accepts Confirm2; the server claims Running and Commit together
// when it verifies a Confirm1. Ledger checks AUTH-C, AUTH-S and CMD over
// claims as injective agreement; it is a value, so the simulator, the
// explorer and trace validation all use it.
package protocol
