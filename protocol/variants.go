package protocol

import (
	"fmt"
	"strings"
)

// Variant is a named change to a profile, for a designer asking "what
// breaks if...". Apply changes a copy of the profile; Breaks names the
// property the change is expected to lose, which `verishake variants
// --check` confirms with a counterexample or a statistic.
type Variant struct {
	Name    string
	Breaks  string // property id, e.g. AuthC
	Summary string
	Apply   func(*Profile)
}

// Of returns p changed by v, named "<profile>+<variant>".
func (v Variant) Of(p Profile) Profile {
	v.Apply(&p)
	p.Name += "+" + v.Name
	return p
}

// Variants is the catalog, each a one-line change to the hardened profile.
// A designer adds one the same way (see docs/variants.md).
func Variants() []Variant {
	return []Variant{
		{"no-client-token-check", AuthC, "the client accepts a Validation without checking its Tc",
			func(p *Profile) { p.SkipClientTokenCheck = true }},
		{"no-server-token-check", AuthS, "the server verifies a Confirm1 without checking its Ts",
			func(p *Profile) { p.SkipServerTokenCheck = true }},
		{"static-server-token", AuthS, "the server hands every session the same Ts",
			func(p *Profile) { p.StaticServerToken = true }},
		{"reused-client-token", AuthC, "the client keeps one Tc for all its handshakes",
			func(p *Profile) { p.ReuseClientToken = true }},
		{"unbound-regid", AuthS, "the server accepts a Confirm1 carrying any pending session's Ts",
			func(p *Profile) { p.UnboundRegID = true }},
		{"no-command-seq", Cmd, "commands carry no sequence number",
			func(p *Profile) { p.CommandSeq = false }},
		{"short-tokens", Forge, "tokens of 8 bits instead of 128",
			func(p *Profile) { p.TokenBits = 8 }},
		{"no-session-cap", Bounded, "no cap on half-open sessions",
			func(p *Profile) { p.HalfOpenCap = 0 }},
		{"no-retransmit", Agree, "the client never re-sends an unanswered message",
			func(p *Profile) { p.Retries = 0 }},
		{"no-idempotent-confirm", Agree, "the server ignores a Confirm1 for a session it already verified",
			func(p *Profile) { p.DuplicateConfirm1 = Ignore }},
	}
}

// VariantByName returns the catalog's variant called name.
func VariantByName(name string) (Variant, error) {
	var names []string
	for _, v := range Variants() {
		if v.Name == name {
			return v, nil
		}
		names = append(names, v.Name)
	}
	return Variant{}, fmt.Errorf("unknown variant %q (want one of %s)", name, strings.Join(names, ", "))
}
