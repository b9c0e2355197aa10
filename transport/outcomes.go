package transport

import (
	"errors"
	"sync/atomic"

	"github.com/verishake/verishake/protocol"
)

// Reasons a server turns an upstream request down, as Stats().Rejections
// names them: the machine's verdicts, then the refusals of ServeHTTP that
// come before the machine.
var rejectReasons = []struct {
	name string
	err  error // nil for the ones ServeHTTP counts itself
}{
	{"session_cap", protocol.ErrSessionCap},
	{"wrong_tc", protocol.ErrWrongTc},
	{"wrong_ts", protocol.ErrWrongTs},
	{"unknown_regid", protocol.ErrUnknownRegID},
	{"expired", protocol.ErrExpired},
	{"duplicate", protocol.ErrDuplicate},
	{"unexpected", protocol.ErrUnexpected},
	{"zero_token", protocol.ErrZeroToken},
	{"wrong_regid", protocol.ErrWrongRegID},
	{"wrong_role", protocol.ErrWrongRole},
	{"other", nil},     // a machine verdict not listed above
	{"malformed", nil}, // 400: a body that is not a frame of the path's kind, or a bad header
	{"oversized", nil}, // 413
	{"no_route", nil},  // 404 or 405
}

// Indexes into rejectReasons of the reasons counted by name.
const (
	reasonOther     = 10
	reasonMalformed = 11
	reasonOversized = 12
	reasonNoRoute   = 13
)

// rejectCounts counts rejections by reason, indexed as rejectReasons.
type rejectCounts [14]atomic.Uint64

// verdict counts the machine's rejection err under its reason.
func (c *rejectCounts) verdict(err error) {
	for i, r := range rejectReasons[:reasonOther] {
		if errors.Is(err, r.err) {
			c[i].Add(1)
			return
		}
	}
	c[reasonOther].Add(1)
}

// snapshot returns every reason's count, zeros included, so that a metric
// exists before its first rejection.
func (c *rejectCounts) snapshot() map[string]uint64 {
	m := make(map[string]uint64, len(rejectReasons))
	for i, r := range rejectReasons {
		m[r.name] = c[i].Load()
	}
	return m
}

// verifies reports whether a server step's claims verify a session.
func verifies(claims []protocol.Claim) bool {
	for _, c := range claims {
		if c.Kind == protocol.Commit && c.Role == protocol.RoleServer {
			return true
		}
	}
	return false
}
