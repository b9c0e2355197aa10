package trace

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/verishake/verishake/protocol"
)

// The parse errors below carry no "trace:" prefix: they describe one
// field's value, and the reader that found it wraps them with the file,
// line and field.

// MsgOf renders message m, sent as message id by from ("client", "server",
// "adversary", or "" when the writer does not know), for a trace. guess
// marks an adversary's guessed token.
func MsgOf(id uint64, from string, guess bool, m protocol.Message) *Msg {
	t := &Msg{ID: id, From: from, Guess: guess, Kind: m.Kind.String(), RegID: uint64(m.RegID), Seq: m.Seq, Payload: m.Payload}
	if !m.Tc.IsZero() {
		t.Tc = m.Tc.String()
	}
	if !m.Ts.IsZero() {
		t.Ts = m.Ts.String()
	}
	return t
}

// Message parses a trace message back into the protocol message it
// records. An error names the field: the kind, or "tc" or "ts" for a
// malformed token.
func (m *Msg) Message() (protocol.Message, error) {
	k, err := ParseKind(m.Kind)
	if err != nil {
		return protocol.Message{}, err
	}
	out := protocol.Message{Kind: k, RegID: protocol.RegID(m.RegID), Seq: m.Seq, Payload: m.Payload}
	if out.Tc, err = ParseToken(m.Tc); err != nil {
		return out, fmt.Errorf("tc: %w", err)
	}
	if out.Ts, err = ParseToken(m.Ts); err != nil {
		return out, fmt.Errorf("ts: %w", err)
	}
	return out, nil
}

// ClaimOf renders a claim for a trace.
func ClaimOf(c protocol.Claim) Claim {
	t := Claim{Kind: c.Kind.String(), Role: c.Role.String(), RegID: uint64(c.RegID), Seq: c.Seq}
	if !c.Tc.IsZero() {
		t.Tc = c.Tc.String()
	}
	if !c.Ts.IsZero() {
		t.Ts = c.Ts.String()
	}
	return t
}

// Claim parses a trace claim back. An error names the field that is wrong.
func (t Claim) Claim() (protocol.Claim, error) {
	c := protocol.Claim{RegID: protocol.RegID(t.RegID), Seq: t.Seq}
	switch t.Kind {
	case "Running":
		c.Kind = protocol.Running
	case "Commit":
		c.Kind = protocol.Commit
	case "Issued":
		c.Kind = protocol.Issued
	case "Executed":
		c.Kind = protocol.Executed
	default:
		return c, fmt.Errorf("unknown claim kind %q", t.Kind)
	}
	switch t.Role {
	case MachineClient:
		c.Role = protocol.RoleClient
	case MachineServer:
		c.Role = protocol.RoleServer
	default:
		return c, fmt.Errorf("unknown role %q", t.Role)
	}
	var err error
	if c.Tc, err = ParseToken(t.Tc); err != nil {
		return c, fmt.Errorf("tc: %w", err)
	}
	if c.Ts, err = ParseToken(t.Ts); err != nil {
		return c, fmt.Errorf("ts: %w", err)
	}
	return c, nil
}

// ParseKind parses a message kind name ("Hello" .. "Command").
func ParseKind(s string) (protocol.Kind, error) {
	for k := protocol.Hello; k <= protocol.Command; k++ {
		if k.String() == s {
			return k, nil
		}
	}
	return 0, fmt.Errorf("unknown message kind %q", s)
}

// ErrToken marks a token string that is neither 32 hex digits nor #k.
var ErrToken = errors.New("malformed token")

// ParseToken parses what protocol.Token's String prints: 32 hex digits, or
// #k for a symbolic token. The empty string is the zero token.
func ParseToken(s string) (protocol.Token, error) {
	var t protocol.Token
	switch {
	case s == "":
		return t, nil
	case strings.HasPrefix(s, "#"):
		k, err := strconv.ParseUint(s[1:], 10, 64)
		if err != nil {
			return t, fmt.Errorf("%w %q: %w", ErrToken, s, err)
		}
		return protocol.Symbolic(k), nil
	case len(s) != 2*protocol.TokenBytes:
		return t, fmt.Errorf("%w %q: want %d hex digits", ErrToken, s, 2*protocol.TokenBytes)
	}
	if _, err := hex.Decode(t[:], []byte(s)); err != nil {
		return t, fmt.Errorf("%w %q: %w", ErrToken, s, err)
	}
	return t, nil
}

// Check reports the first field of r that does not parse: an unknown
// step name, a message ("message <id>: ...") whose kind or token is
// malformed, or a claim ("claim: ..."). A reader calls it before it
// replays r, so that a replay never meets a value it cannot rebuild.
func (r *Record) Check() error {
	if err := CheckStep(r.Step); err != nil {
		return err
	}
	for _, m := range []*Msg{r.Recv, r.Sent} {
		if m != nil {
			if _, err := m.Message(); err != nil {
				return fmt.Errorf("message %d: %w", m.ID, err)
			}
		}
	}
	for _, c := range r.Claims {
		if _, err := c.Claim(); err != nil {
			return fmt.Errorf("claim: %w", err)
		}
	}
	return nil
}
