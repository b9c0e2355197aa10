package models

import (
	"encoding/json"
	"fmt"

	"github.com/verishake/verishake/adversary"
	"github.com/verishake/verishake/dist/beam/bfs"
	"github.com/verishake/verishake/internal/verifier"
	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/sim"
	"github.com/verishake/verishake/sim/explore"
)

func init() {
	bfs.Register(HandshakeModel, func(config []byte) (bfs.Machine, error) {
		var h Handshake
		if err := json.Unmarshal(config, &h); err != nil {
			return bfs.Machine{}, fmt.Errorf("models: handshake configuration: %w", err)
		}
		m, err := h.Model()
		if err != nil {
			return bfs.Machine{}, err
		}
		return bfs.Bind(m), nil
	})
}

// HandshakeModel is the handshake's registered name.
const HandshakeModel = "handshake"

// Bounds are the explorer's budgets, as `verishake check`'s flags set
// them: the same type.
type Bounds = verifier.Bounds

// DefaultBounds are `verishake check`'s without flags.
var DefaultBounds = Bounds{Clients: 1, Sessions: 1, Losses: 1, Dups: 1, Injects: 1, Retries: 1, Commands: 1}

// Handshake is one exploration of the handshake, as `verishake check`
// sets it up from its flags: a profile (and variant), bounds, the
// adversary's capabilities and the reductions.
type Handshake struct {
	Profile      string `json:"profile"`
	Variant      string `json:"variant,omitempty"`
	Bounds       Bounds `json:"bounds"`
	Adversary    string `json:"adversary"` // as --adversary takes it
	Agree        bool   `json:"agree"`
	Symmetry     bool   `json:"symmetry"`
	RenameTokens bool   `json:"rename_tokens"`
}

// Spec is the exploration as the workers build it.
func (h Handshake) Spec() bfs.Spec {
	raw, _ := json.Marshal(h)
	return bfs.Spec{Model: HandshakeModel, Config: raw}
}

// ResolveProfile is the named profile with the named variant applied.
var ResolveProfile = verifier.ResolveProfile

// Resolved is the profile explored, the variant applied.
func (h Handshake) Resolved() (protocol.Profile, error) { return ResolveProfile(h.Profile, h.Variant) }

// Capabilities are the adversary's, parsed.
func (h Handshake) Capabilities() (adversary.Capabilities, error) {
	c, err := adversary.ParseCapabilities(h.Adversary)
	if err != nil {
		return c, fmt.Errorf("--adversary: %w", err)
	}
	return c, nil
}

// Config is the exploration's configuration, built as `verishake check`
// builds it: retransmissions capped at the bound, and an adversary only
// when it may inject or is the insider (whose own handshake costs no
// injection).
func (h Handshake) Config() (explore.Config, error) {
	p, err := h.Resolved()
	if err != nil {
		return explore.Config{}, err
	}
	caps, err := h.Capabilities()
	if err != nil {
		return explore.Config{}, err
	}
	b := h.Bounds
	capped := b.Retries < p.Retries // AGREE's excuse at the cap (explore.Config.RetriesCapped)
	p.Retries = min(p.Retries, b.Retries)
	hs, err := p.Compile()
	if err != nil {
		return explore.Config{}, fmt.Errorf("models: profile %s: %w", p.Name, err)
	}
	var adv sim.Adversary
	if b.Injects > 0 && caps != (adversary.Capabilities{}) || caps.Insider {
		adv = adversary.NewExplorer(caps, b.Clients, protocol.RegID(b.Clients+1))
	}
	return explore.Config{Handshake: hs, Clients: b.Clients, Sessions: b.Sessions, Commands: b.Commands,
		Losses: b.Losses, Dups: b.Dups, Injects: b.Injects, Retransmits: b.Retransmits, Adversary: adv,
		RetriesCapped: capped, Agree: h.Agree, Symmetry: h.Symmetry, RenameTokens: h.RenameTokens}, nil
}

// Model is the exploration as an engine model.
func (h Handshake) Model() (*explore.Model, error) {
	cfg, err := h.Config()
	if err != nil {
		return nil, err
	}
	return explore.NewModel(cfg)
}
