package fsm_test

import "github.com/verishake/verishake/fsm/internal/fsmtest"

// The handshake-shaped table of the tests and benchmarks, shared with
// fsm/looplab's (package fsmtest), under the names the tests use.

type (
	hsState = fsmtest.State
	hsEvent = fsmtest.Event
	hsRow   = fsmtest.Row
)

const (
	Idle            = fsmtest.Idle
	AwaitValidation = fsmtest.AwaitValidation
	AwaitConfirm2   = fsmtest.AwaitConfirm2
	Verified        = fsmtest.Verified
	Failed          = fsmtest.Failed

	Start      = fsmtest.Start
	Validation = fsmtest.Validation
	Retry      = fsmtest.Retry
	Confirm2   = fsmtest.Confirm2
	GiveUp     = fsmtest.GiveUp
	Command    = fsmtest.Command
	Timeout    = fsmtest.Timeout
	Reset      = fsmtest.Reset
)

var (
	handshakeSpec = fsmtest.HandshakeSpec
	sessionSpec   = fsmtest.SessionSpec
	sessionCycle  = fsmtest.SessionCycle
)
