// Package repair searches a profile's knobs for the minimal sets of
// changes under which every property holds: `verishake repair`. A change
// sets one knob to one value of its domain; a set of changes sets each of
// its knobs once. A set works when verify's checks find every property
// holding with it; it is minimal when no proper subset works. The search
// tries sets by size, smallest first, and skips only the supersets of sets
// already found to work, which cannot be minimal: see docs/designer-tools.md
// for why nothing else is skipped.
package repair

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/verishake/verishake/protocol"
)

// Knob is one field of protocol.Profile the search may change, with the
// values it tries.
type Knob struct {
	Name string
	// Weakening knobs turn off a check the shipped profiles make; the
	// default search turns them off when they are on, never on.
	Weakening bool
	values    []string
	get       func(protocol.Profile) string
	set       func(*protocol.Profile, string)
}

// Values is the knob's domain, as the search tries it.
func (k Knob) Values() []string { return slices.Clone(k.values) }

// Get is the knob's value in p, as a domain value (or, for a number
// outside the domain, the number).
func (k Knob) Get(p protocol.Profile) string { return k.get(p) }

func boolKnob(name string, weakening bool, field func(*protocol.Profile) *bool) Knob {
	return Knob{Name: name, Weakening: weakening, values: []string{"false", "true"},
		get: func(p protocol.Profile) string { return strconv.FormatBool(*field(&p)) },
		set: func(p *protocol.Profile, v string) { *field(p) = v == "true" }}
}

func intKnob(name string, values []int, field func(*protocol.Profile) *int) Knob {
	k := Knob{Name: name,
		get: func(p protocol.Profile) string { return strconv.Itoa(*field(&p)) },
		set: func(p *protocol.Profile, v string) { n, _ := strconv.Atoi(v); *field(p) = n }}
	for _, v := range values {
		k.values = append(k.values, strconv.Itoa(v))
	}
	return k
}

// Knobs are every knob of protocol.Profile the search knows, in the
// profile's order. The numeric domains are small on purpose (every value
// multiplies the sets to try): retries none, one, two and hardened's
// eight; the half-open cap none, one and hardened's 1024 (verify's flood
// sends 1025 Hellos); the lifetime none or hardened's minute; tokens of 8
// or 128 bits. Backoff and MaxBackoff are not knobs of their own: giving
// retries to a profile that has no back-off gives it hardened's (1 s
// doubling up to 8 s), which Validate requires. Name and Hooks are not
// knobs: a name changes nothing, and hooks are code.
func Knobs() []Knob {
	return []Knob{
		intKnob("TokenBits", []int{8, 128}, func(p *protocol.Profile) *int { return &p.TokenBits }),
		{Name: "Lifetime", values: []string{"0s", "1m0s"},
			get: func(p protocol.Profile) string { return p.Lifetime.String() },
			set: func(p *protocol.Profile, v string) { p.Lifetime, _ = time.ParseDuration(v) }},
		{Name: "Retries", values: []string{"0", "1", "2", "8"},
			get: func(p protocol.Profile) string { return strconv.Itoa(p.Retries) },
			set: func(p *protocol.Profile, v string) {
				p.Retries, _ = strconv.Atoi(v)
				if p.Retries > 0 && p.Backoff <= 0 {
					h := protocol.Hardened()
					p.Backoff, p.MaxBackoff = h.Backoff, h.MaxBackoff
				}
			}},
		boolKnob("NewTokenOnRetry", false, func(p *protocol.Profile) *bool { return &p.NewTokenOnRetry }),
		boolKnob("IdempotentHello", false, func(p *protocol.Profile) *bool { return &p.IdempotentHello }),
		{Name: "DuplicateConfirm1", values: []string{protocol.Reverify.String(), protocol.Reanswer.String(), protocol.Ignore.String()},
			get: func(p protocol.Profile) string { return p.DuplicateConfirm1.String() },
			set: func(p *protocol.Profile, v string) {
				for _, d := range []protocol.DuplicateConfirm1{protocol.Reverify, protocol.Reanswer, protocol.Ignore} {
					if d.String() == v {
						p.DuplicateConfirm1 = d
					}
				}
			}},
		boolKnob("KeepVerifiedOnHello", false, func(p *protocol.Profile) *bool { return &p.KeepVerifiedOnHello }),
		boolKnob("CommandSeq", false, func(p *protocol.Profile) *bool { return &p.CommandSeq }),
		boolKnob("CommandWindow", false, func(p *protocol.Profile) *bool { return &p.CommandWindow }),
		boolKnob("CommandConfirms", false, func(p *protocol.Profile) *bool { return &p.CommandConfirms }),
		intKnob("HalfOpenCap", []int{0, 1, 1024}, func(p *protocol.Profile) *int { return &p.HalfOpenCap }),
		boolKnob("SkipClientTokenCheck", true, func(p *protocol.Profile) *bool { return &p.SkipClientTokenCheck }),
		boolKnob("SkipServerTokenCheck", true, func(p *protocol.Profile) *bool { return &p.SkipServerTokenCheck }),
		boolKnob("StaticServerToken", true, func(p *protocol.Profile) *bool { return &p.StaticServerToken }),
		boolKnob("ReuseClientToken", true, func(p *protocol.Profile) *bool { return &p.ReuseClientToken }),
		boolKnob("UnboundRegID", true, func(p *protocol.Profile) *bool { return &p.UnboundRegID }),
	}
}

// NotKnobs are the fields of protocol.Profile that are not knobs, and why
// (a test holds Knobs and NotKnobs to the struct's fields).
var NotKnobs = map[string]string{
	"Name":       "a name changes nothing",
	"Hooks":      "hooks are code, not values to try",
	"Backoff":    "set with Retries (hardened's, when retries are given to a profile with none)",
	"MaxBackoff": "set with Retries (hardened's, when retries are given to a profile with none)",
}

// KnobsByName returns the named knobs, in the profile's order.
func KnobsByName(names []string) ([]Knob, error) {
	all := Knobs()
	var out []Knob
	for _, k := range all {
		if slices.Contains(names, k.Name) {
			out = append(out, k)
		}
	}
	for _, n := range names {
		if !slices.ContainsFunc(all, func(k Knob) bool { return k.Name == n }) {
			var known []string
			for _, k := range all {
				known = append(known, k.Name)
			}
			return nil, fmt.Errorf("repair: unknown knob %q (want one of %s)", n, strings.Join(known, ", "))
		}
	}
	return out, nil
}

// DefaultKnobs are what the search changes on p when no knobs are named:
// every knob that is not a weakening, and the weakenings that p has on (to
// turn them off). Turning a weakening on removes a check, so it is left to
// a search that names it (--knobs).
func DefaultKnobs(p protocol.Profile) []Knob {
	var out []Knob
	for _, k := range Knobs() {
		if !k.Weakening || k.get(p) != "false" {
			out = append(out, k)
		}
	}
	return out
}

// Change sets one knob to one value.
type Change struct {
	Knob  string `json:"knob"`
	Value string `json:"value"`
}

func (c Change) String() string { return c.Knob + "=" + c.Value }

// Set is a set of changes, at most one per knob, in the knobs' order.
type Set []Change

func (s Set) String() string {
	if len(s) == 0 {
		return "(no change)"
	}
	parts := make([]string, len(s))
	for i, c := range s {
		parts[i] = c.String()
	}
	return strings.Join(parts, " ")
}

// contains reports whether every change of sub is in s.
func (s Set) contains(sub Set) bool {
	for _, c := range sub {
		if !slices.Contains(s, c) {
			return false
		}
	}
	return true
}

// Apply returns p with the changes of s made.
func (s Set) Apply(p protocol.Profile) protocol.Profile {
	knobs := Knobs()
	for _, c := range s {
		for _, k := range knobs {
			if k.Name == c.Knob {
				k.set(&p, c.Value)
			}
		}
	}
	return p
}

// Without returns s less its i-th change.
func (s Set) Without(i int) Set { return slices.Delete(slices.Clone(s), i, i+1) }
