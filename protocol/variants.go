package protocol

import (
	"fmt"
	"strings"
)

// Variant is a named change to a profile, for a designer asking "what
// breaks if...". Apply changes a copy of the profile's knobs; Hooks change
// what its checks decide, for a change no knob makes (see Hooks). Either
// may be nil or zero. Breaks names the property the change is expected to
// lose, which `verishake variants --check` confirms for the catalog with a
// counterexample or a statistic.
type Variant struct {
	Name    string
	Breaks  string // property id, e.g. AuthC
	Summary string
	Apply   func(*Profile)
	Hooks   Hooks
}

// Of returns p changed by v, named "<profile>+<variant>": v.Apply run on a
// copy of p, then v.Hooks stacked on the profile's hooks (Hooks.Then), so
// that variants applied in turn compose.
func (v Variant) Of(p Profile) Profile {
	if v.Apply != nil {
		v.Apply(&p)
	}
	p.Hooks = p.Hooks.Then(v.Hooks)
	p.Name += "+" + v.Name
	return p
}

// Variants is the catalog, each a one-line change to the hardened profile.
// A designer adds one the same way (see docs/variants.md).
func Variants() []Variant {
	return []Variant{
		{Name: "no-client-token-check", Breaks: AuthC, Summary: "the client accepts a Validation without checking its Tc",
			Apply: func(p *Profile) { p.SkipClientTokenCheck = true }},
		{Name: "no-server-token-check", Breaks: AuthS, Summary: "the server verifies a Confirm1 without checking its Ts",
			Apply: func(p *Profile) { p.SkipServerTokenCheck = true }},
		{Name: "static-server-token", Breaks: AuthS, Summary: "the server hands every session the same Ts",
			Apply: func(p *Profile) { p.StaticServerToken = true }},
		{Name: "reused-client-token", Breaks: AuthC, Summary: "the client keeps one Tc for all its handshakes",
			Apply: func(p *Profile) { p.ReuseClientToken = true }},
		{Name: "unbound-regid", Breaks: AuthS, Summary: "the server accepts a Confirm1 carrying any pending session's Ts",
			Apply: func(p *Profile) { p.UnboundRegID = true }},
		{Name: "no-command-seq", Breaks: Cmd, Summary: "commands carry no sequence number",
			Apply: func(p *Profile) { p.CommandSeq = false }},
		{Name: "short-tokens", Breaks: Forge, Summary: "tokens of 8 bits instead of 128",
			Apply: func(p *Profile) { p.TokenBits = 8 }},
		{Name: "no-session-cap", Breaks: Bounded, Summary: "no cap on half-open sessions",
			Apply: func(p *Profile) { p.HalfOpenCap = 0 }},
		{Name: "no-retransmit", Breaks: Agree, Summary: "the client never re-sends an unanswered message",
			Apply: func(p *Profile) { p.Retries = 0 }},
		{Name: "no-idempotent-confirm", Breaks: Agree, Summary: "the server ignores a Confirm1 for a session it already verified",
			Apply: func(p *Profile) { p.DuplicateConfirm1 = Ignore }},
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
	return Variant{}, fmt.Errorf("protocol: unknown variant %q (want one of %s)", name, strings.Join(names, ", "))
}
