package trace

import (
	"fmt"
	"strings"

	"github.com/verishake/verishake/protocol"
)

// The vocabulary of the sequence diagrams drawn from traces (`verishake
// replay`, `validate --diagram`, demo), in Mermaid: one place, so that
// every diagram names a message, a claim and a token the same way.

// MermaidLabel is a message as the diagrams label it ("Validation
// Tc=1a2b3c4d Ts=5e6f7a8b", "Command Ts=… seq 2").
func MermaidLabel(m *Msg) string {
	s := m.Kind
	if t := MermaidTokens(m.Tc, m.Ts); t != "" {
		s += " " + t
	}
	if m.Kind == protocol.Command.String() {
		s += fmt.Sprintf(" seq %d", m.Seq)
	}
	return MermaidText(s)
}

// MermaidClaim is a claim as the diagrams note it ("Commit(client) Tc=…
// Ts=…").
func MermaidClaim(c Claim) string {
	return MermaidText(fmt.Sprintf("%s(%s) %s", c.Kind, c.Role, MermaidTokens(c.Tc, c.Ts)))
}

// MermaidTokens abbreviates tokens for a Mermaid diagram (ShortToken,
// with #k written tokk: '#' starts an entity code in Mermaid).
func MermaidTokens(tc, ts string) string {
	short := func(t string) string {
		if strings.HasPrefix(t, "#") {
			return "tok" + t[1:]
		}
		return ShortToken(t)
	}
	var parts []string
	if tc != "" {
		parts = append(parts, "Tc="+short(tc))
	}
	if ts != "" {
		parts = append(parts, "Ts="+short(ts))
	}
	return strings.Join(parts, " ")
}

// ShortToken abbreviates a token for a diagram: a symbolic #k stays; a
// random one keeps its first 8 significant hex digits. Leading zeros are
// skipped because a short token (short-tokens: 8 bits) keeps only its
// low-order bits, and its first 8 digits would all be zero.
func ShortToken(t string) string {
	if strings.HasPrefix(t, "#") {
		return t
	}
	if t = strings.TrimLeft(t, "0"); t == "" {
		t = "0"
	}
	return t[:min(8, len(t))]
}

// MermaidText keeps Mermaid's parser away from the characters it treats
// as syntax in a statement's text.
func MermaidText(s string) string {
	return strings.NewReplacer(";", ",", "#", "", ":", " -", "\n", " ").Replace(s)
}
