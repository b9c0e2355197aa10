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

type agreement struct {
	RegID  RegID
	Tc, Ts Token
}

type command struct {
	RegID RegID
	Ts    Token
	Seq   uint32
}

// Monitor checks AUTH-C, AUTH-S and CMD online, one claim at a time, as
// Lowe's injective agreement: every Commit consumes one earlier Running of
// the peer with the same (RegID, Tc, Ts), and every Executed one earlier
// Issued with the same (RegID, Ts, Seq). Consumed entries are deleted, so
// memory follows the handshakes in flight, not the length of the run.
type Monitor struct {
	// Honest says which RegIDs belong to honest clients; claims about any
	// other (the insider's, forged ones) are exempt. Nil: all are honest.
	Honest func(RegID) bool

	serverRunning map[agreement]int
	clientRunning map[agreement]int
	issued        map[command]int
}

// NewMonitor returns a monitor for the honest RegIDs (nil: all).
func NewMonitor(honest func(RegID) bool) *Monitor {
	return &Monitor{
		Honest:        honest,
		serverRunning: map[agreement]int{},
		clientRunning: map[agreement]int{},
		issued:        map[command]int{},
	}
}

// Observe records c and returns the violation it completes, if any.
func (m *Monitor) Observe(c Claim) (Violation, bool) {
	if m.Honest != nil && !m.Honest(c.RegID) {
		return Violation{}, false
	}
	a := agreement{c.RegID, c.Tc, c.Ts}
	switch {
	case c.Kind == Running && c.Role == RoleServer:
		m.serverRunning[a]++
	case c.Kind == Running && c.Role == RoleClient:
		m.clientRunning[a]++
	case c.Kind == Commit && c.Role == RoleClient:
		if !consume(m.serverRunning, a) {
			return Violation{AuthC, c, "client accepted a session no unmatched server Running vouches for"}, true
		}
	case c.Kind == Commit && c.Role == RoleServer:
		if !consume(m.clientRunning, a) {
			return Violation{AuthS, c, "server verified a session no unmatched client Running vouches for"}, true
		}
	case c.Kind == Issued:
		m.issued[command{c.RegID, c.Ts, c.Seq}]++
	case c.Kind == Executed:
		if !consume(m.issued, command{c.RegID, c.Ts, c.Seq}) {
			return Violation{Cmd, c, "client executed a command the server did not issue, or executed it again"}, true
		}
	}
	return Violation{}, false
}

func consume[K comparable](counts map[K]int, k K) bool {
	n := counts[k]
	switch n {
	case 0:
		return false
	case 1:
		delete(counts, k)
	default:
		counts[k] = n - 1
	}
	return true
}

// CheckClaims runs a fresh Monitor over a claim trace and returns every
// violation in order.
func CheckClaims(trace []Claim, honest func(RegID) bool) []Violation {
	m := NewMonitor(honest)
	var vs []Violation
	for _, c := range trace {
		if v, bad := m.Observe(c); bad {
			vs = append(vs, v)
		}
	}
	return vs
}

// Pending is the number of claims awaiting their match: unconsumed Running
// and Issued claims. It grows only with sessions left unfinished.
func (m *Monitor) Pending() int {
	return len(m.serverRunning) + len(m.clientRunning) + len(m.issued)
}
