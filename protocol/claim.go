package protocol

import "fmt"

// Role is the side that makes a claim.
type Role uint8

// The two roles of the handshake.
const (
	RoleClient Role = iota + 1
	RoleServer
)

func (r Role) String() string {
	switch r {
	case RoleClient:
		return "client"
	case RoleServer:
		return "server"
	}
	return fmt.Sprintf("Role(%d)", uint8(r))
}

// ClaimKind is what a claim asserts.
type ClaimKind uint8

// Claim kinds, after Lowe's agreement specifications.
const (
	// Running: the role has committed to (RegID, Tc, Ts) in what it sent.
	Running ClaimKind = iota + 1
	// Commit: the role accepts its peer on (RegID, Tc, Ts).
	Commit
	// Issued: the server sent command Seq under Ts to RegID.
	Issued
	// Executed: the client acted on command Seq under Ts.
	Executed
)

var claimNames = [...]string{"ClaimKind(0)", "Running", "Commit", "Issued", "Executed"}

func (k ClaimKind) String() string {
	if int(k) < len(claimNames) {
		return claimNames[k]
	}
	return fmt.Sprintf("ClaimKind(%d)", uint8(k))
}

// Claim is an event the properties are stated over. Tc is zero in Issued
// and Executed claims; Seq is zero in Running and Commit claims.
type Claim struct {
	Kind  ClaimKind
	Role  Role
	RegID RegID
	Tc    Token
	Ts    Token
	Seq   uint32
}

func (c Claim) String() string {
	switch c.Kind {
	case Issued, Executed:
		return fmt.Sprintf("%v(%v, %d, Ts=%v, Seq=%d)", c.Kind, c.Role, c.RegID, c.Ts, c.Seq)
	}
	return fmt.Sprintf("%v(%v, %d, Tc=%v, Ts=%v)", c.Kind, c.Role, c.RegID, c.Tc, c.Ts)
}
