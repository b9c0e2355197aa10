// Package adversary is the attacker of docs/properties.md: the network plus an
// insider. It sees every message the network carries as an opaque envelope
// it may replay; it sends upstream as any RegID and pushes to any RegID; it
// owns a RegID of its own (Insider) and so learns the tokens of its own
// sessions; it learns an honest session's tokens once the client abandons
// it; and it composes messages from what it knows. Optionally it reads the
// tokens inside upstream or push messages.
//
// Knowledge is a value the explorer copies and fingerprints. Injections
// lists every message the adversary can send from a state (the explorer's
// nondeterministic moves); a Strategy picks one at random (the simulator's).
// The package holds no world: the simulator and the explorer tell it what
// it observes and what leaks.
package adversary

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/verishake/verishake/protocol"
)

// Capabilities switch the adversary's powers one by one.
type Capabilities struct {
	Replay      bool // re-send any envelope it carried, verbatim
	Impersonate bool // send upstream as any RegID, push to any RegID
	Insider     bool // run handshakes as Insider and learn their tokens
	Forge       bool // compose messages from known and guessed tokens
	Flood       bool // many Hellos from forged RegIDs
	// ReadUpstream and ReadPush let it read the tokens inside messages on
	// that channel: off by default (HTTPS upstream; the push platform
	// delivers only to the RegID's device).
	ReadUpstream bool
	ReadPush     bool
}

// Default is the threat model `verify` uses: everything but reading.
func Default() Capabilities {
	return Capabilities{Replay: true, Impersonate: true, Insider: true, Forge: true, Flood: true}
}

// String lists the capabilities that are on, e.g. "replay+forge".
func (c Capabilities) String() string {
	var on []string
	for _, f := range []struct {
		on   bool
		name string
	}{
		{c.Replay, "replay"}, {c.Impersonate, "impersonate"}, {c.Insider, "insider"},
		{c.Forge, "forge"}, {c.Flood, "flood"}, {c.ReadUpstream, "read-upstream"}, {c.ReadPush, "read-push"},
	} {
		if f.on {
			on = append(on, f.name)
		}
	}
	if len(on) == 0 {
		return "none"
	}
	return strings.Join(on, "+")
}

// ParseCapabilities reads a "+"-separated list of capability names, or
// "default", or "none".
func ParseCapabilities(s string) (Capabilities, error) {
	var c Capabilities
	if s == "none" {
		return c, nil
	}
	for _, name := range strings.Split(s, "+") {
		switch name {
		case "default":
			c.Replay, c.Impersonate, c.Insider, c.Forge, c.Flood = true, true, true, true, true
		case "replay":
			c.Replay = true
		case "impersonate":
			c.Impersonate = true
		case "insider":
			c.Insider = true
		case "forge":
			c.Forge = true
		case "flood":
			c.Flood = true
		case "read-upstream":
			c.ReadUpstream = true
		case "read-push":
			c.ReadPush = true
		default:
			return c, fmt.Errorf("adversary: unknown capability %q (want replay, impersonate, insider, forge, flood, read-upstream, read-push, default or none)", name)
		}
	}
	return c, nil
}

// FloodBase is the first RegID a flood forges; forged RegIDs count up
// from it, far above any honest client's or the insider's.
const FloodBase protocol.RegID = 1 << 40

// Own is the adversary's own token: the Tc of its own Hellos, and what it
// puts wherever it needs a token it made up. Symbolic, so it never equals
// an honest token.
var Own = protocol.Symbolic(1 << 40)

// Knowledge is what the adversary knows: tokens and the envelopes it has
// carried. For exploration (MaxCaptured zero) both are kept sorted and
// without duplicates, so equal knowledge is equal bytes (the explorer
// fingerprints it). For simulation (MaxCaptured > 0) both are bounded
// windows of the most recent, without duplicates, in no useful order: a
// long run must not grow them, nor pay for keeping them sorted.
type Knowledge struct {
	// Insider is the RegID the adversary owns: it reads what is pushed there.
	Insider  protocol.RegID
	Tokens   []protocol.Token
	Captured []protocol.Message
	// MaxCaptured bounds Captured and Tokens (oldest dropped first, Own
	// never), for long simulations; zero keeps all (for exploration).
	MaxCaptured int

	// Simulation only: what the windows hold, for constant-time lookups,
	// and the next slot each overwrites once full. Built on first use.
	tokSet           map[protocol.Token]struct{}
	msgSet           map[protocol.Message]struct{}
	tokNext, msgNext int
}

// NewKnowledge returns the knowledge an adversary owning RegID insider
// starts with: its own token. maxCaptured > 0 bounds what it keeps (see
// MaxCaptured).
func NewKnowledge(insider protocol.RegID, maxCaptured int) Knowledge {
	return Knowledge{Insider: insider, Tokens: []protocol.Token{Own}, MaxCaptured: maxCaptured}
}

// Clone returns an independent copy.
func (k Knowledge) Clone() Knowledge {
	k.Tokens = slices.Clone(k.Tokens)
	k.Captured = slices.Clone(k.Captured)
	k.tokSet = maps.Clone(k.tokSet)
	k.msgSet = maps.Clone(k.msgSet)
	return k
}

// windowed reports whether k keeps bounded windows (simulation), building
// their lookup sets on first use.
func (k *Knowledge) windowed() bool {
	if k.MaxCaptured <= 0 {
		return false
	}
	if k.tokSet == nil {
		k.tokSet = make(map[protocol.Token]struct{}, len(k.Tokens))
		for _, t := range k.Tokens {
			k.tokSet[t] = struct{}{}
		}
		k.msgSet = make(map[protocol.Message]struct{}, len(k.Captured))
		for _, m := range k.Captured {
			k.msgSet[m] = struct{}{}
		}
	}
	return true
}

// Knows reports whether the adversary knows t.
func (k *Knowledge) Knows(t protocol.Token) bool {
	if k.windowed() {
		_, ok := k.tokSet[t]
		return ok
	}
	_, ok := slices.BinarySearchFunc(k.Tokens, t, compareTokens)
	return ok
}

// Learn adds t (a zero token is no knowledge). It reports whether t was new.
func (k *Knowledge) Learn(t protocol.Token) bool {
	if t.IsZero() {
		return false
	}
	if k.windowed() {
		if _, ok := k.tokSet[t]; ok {
			return false
		}
		k.tokSet[t] = struct{}{}
		// Tokens[0] is Own, the adversary's own token: never forgotten.
		if len(k.Tokens) < max(k.MaxCaptured, 2) {
			k.Tokens = append(k.Tokens, t)
			return true
		}
		if k.tokNext < 1 || k.tokNext >= len(k.Tokens) {
			k.tokNext = 1
		}
		delete(k.tokSet, k.Tokens[k.tokNext])
		k.Tokens[k.tokNext] = t
		k.tokNext++
		return true
	}
	i, ok := slices.BinarySearchFunc(k.Tokens, t, compareTokens)
	if ok {
		return false
	}
	k.Tokens = slices.Insert(k.Tokens, i, t)
	return true
}

// Leak is called when an honest client abandons a session (it failed, or
// started its next handshake): that session's tokens become known.
func (k *Knowledge) Leak(tc, ts protocol.Token) {
	k.Learn(tc)
	k.Learn(ts)
}

// Observe records a message the network carries. With replay it keeps the
// envelope; it learns the tokens inside when it may read that channel or
// the message is pushed to its own device.
func (k *Knowledge) Observe(m protocol.Message, c Capabilities) {
	if c.Replay {
		k.capture(m)
	}
	read := m.Kind.Upstream() && c.ReadUpstream ||
		!m.Kind.Upstream() && (c.ReadPush || c.Insider && m.RegID == k.Insider)
	if read {
		k.Learn(m.Tc)
		k.Learn(m.Ts)
	}
}

func (k *Knowledge) capture(m protocol.Message) {
	if k.windowed() {
		// Simulation: a bounded window of recent envelopes; once full,
		// each new one overwrites the oldest.
		if _, ok := k.msgSet[m]; ok {
			return
		}
		k.msgSet[m] = struct{}{}
		if len(k.Captured) < k.MaxCaptured {
			k.Captured = append(k.Captured, m)
			return
		}
		delete(k.msgSet, k.Captured[k.msgNext])
		k.Captured[k.msgNext] = m
		k.msgNext = (k.msgNext + 1) % len(k.Captured)
		return
	}
	i, ok := slices.BinarySearchFunc(k.Captured, m, compareMessages)
	if !ok {
		k.Captured = slices.Insert(k.Captured, i, m)
	}
}

func compareTokens(a, b protocol.Token) int { return strings.Compare(string(a[:]), string(b[:])) }

func compareMessages(a, b protocol.Message) int {
	switch {
	case a.Kind != b.Kind:
		return int(a.Kind) - int(b.Kind)
	case a.RegID != b.RegID:
		if a.RegID < b.RegID {
			return -1
		}
		return 1
	case a.Tc != b.Tc:
		return compareTokens(a.Tc, b.Tc)
	case a.Ts != b.Ts:
		return compareTokens(a.Ts, b.Ts)
	case a.Seq != b.Seq:
		if a.Seq < b.Seq {
			return -1
		}
		return 1
	}
	return strings.Compare(a.Payload, b.Payload)
}

// ForgedSeq is the sequence number of a forged command: above any a real
// session reaches, so a client that checks sequence numbers still runs it.
const ForgedSeq = 1 << 31

// Injections appends to dst every message the adversary can send from k:
// each captured envelope (replay), and each message of each kind composed
// from known tokens for each target RegID (impersonate, forge), plus the
// insider's own Hello and Confirm1s. Guessed tokens are left out: against
// symbolic tokens a guess matches nothing (guessing is FORGE's business, in
// simulation). Order is deterministic.
func Injections(dst []protocol.Message, k *Knowledge, c Capabilities, targets []protocol.RegID) []protocol.Message {
	if c.Replay {
		for _, m := range k.Captured {
			if m.Kind.Upstream() || slices.Contains(targets, m.RegID) {
				// A push to a device no honest client holds changes nothing.
				dst = append(dst, m)
			}
		}
	}
	var ids []protocol.RegID
	if c.Impersonate {
		ids = append(ids, targets...)
	}
	if c.Insider {
		ids = append(ids, k.Insider)
	}
	for _, id := range ids {
		own := id == k.Insider
		if !c.Forge && !own {
			// Impersonation without forging: only the adversary's own Hello.
			dst = append(dst, protocol.Message{Kind: protocol.Hello, RegID: id, Tc: Own})
			continue
		}
		for _, t := range k.Tokens {
			dst = append(dst,
				protocol.Message{Kind: protocol.Hello, RegID: id, Tc: t},
				protocol.Message{Kind: protocol.Confirm1, RegID: id, Ts: t})
			if own {
				continue // pushing to its own device teaches it nothing
			}
			for _, u := range k.Tokens {
				dst = append(dst, protocol.Message{Kind: protocol.Validation, RegID: id, Tc: t, Ts: u})
			}
			dst = append(dst,
				protocol.Message{Kind: protocol.Confirm2, RegID: id, Ts: t},
				protocol.Message{Kind: protocol.Command, RegID: id, Ts: t, Seq: ForgedSeq})
		}
	}
	return dst
}
