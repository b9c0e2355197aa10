package sim

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/trace"
)

// The trace schema is package trace's; this file converts the world's
// steps and envelopes to and from it.

// Origin says who put a message on the network.
type Origin uint8

// Origins of in-flight messages.
const (
	FromClient Origin = iota + 1
	FromServer
	FromAdversary
)

var originNames = [...]string{"", "client", "server", "adversary"}

func (o Origin) String() string {
	if int(o) < len(originNames) {
		return originNames[o]
	}
	return "Origin(" + strconv.Itoa(int(o)) + ")"
}

func parseOrigin(s string) (Origin, error) {
	for i, n := range originNames {
		if i > 0 && n == s {
			return Origin(i), nil
		}
	}
	return 0, fmt.Errorf("unknown sender %q", s)
}

// MsgOf renders an envelope for a trace.
func MsgOf(e Envelope) *trace.Msg {
	return trace.MsgOf(uint64(e.ID), e.From.String(), e.Guess, e.Msg)
}

// EnvelopeOf parses a trace message back into an envelope.
func EnvelopeOf(t *trace.Msg) (Envelope, error) {
	// The kind, the sender, then the tokens: the order errors are found in.
	if _, err := trace.ParseKind(t.Kind); err != nil {
		return Envelope{}, err
	}
	e := Envelope{ID: MsgID(t.ID), Guess: t.Guess}
	var err error
	if t.From != "" {
		if e.From, err = parseOrigin(t.From); err != nil {
			return Envelope{}, err
		}
	}
	if e.Msg, err = t.Message(); err != nil {
		return Envelope{}, err
	}
	return e, nil
}

// RecordOf renders step n, which w took with result r, as a trace record.
// Call it right after Apply: the machine's State is read from w.
func RecordOf(n uint64, s Step, r *Result, w *World) trace.Record {
	rec := trace.Record{Type: trace.LineStep, N: n, T: s.At, Step: s.Kind.String(), HS: r.HS}
	switch s.Kind {
	case StepDeliver, StepDrop, StepDup, StepCorrupt:
		slot := s.Slot
		rec.Slot = &slot
		rec.Recv = MsgOf(r.Recv)
	}
	if s.Kind == StepCorrupt {
		pos := int(s.Pos)
		rec.Pos, rec.Mask = &pos, s.Mask
	}
	if s.Kind == StepFlood {
		rec.Count = s.Count
	}
	if s.Kind == StepInsider {
		rec.Recv = MsgOf(r.Recv) // the insider's message, taken by the server at once
	}
	switch r.Role {
	case protocol.RoleClient:
		rec.Machine, rec.RegID, rec.State = trace.MachineClient, uint64(r.RegID), r.After.String()
	case protocol.RoleServer:
		rec.Machine, rec.RegID = trace.MachineServer, uint64(r.RegID)
		sl, _ := w.Server.Slot(r.RegID)
		rec.State = sl.State.String()
	}
	if r.Sent.Msg.Kind != 0 {
		rec.Sent = MsgOf(r.Sent)
		slot := r.SentSlot
		rec.SentSlot = &slot
	}
	for _, c := range r.ClaimList() {
		rec.Claims = append(rec.Claims, trace.ClaimOf(c))
	}
	if r.Err != nil {
		rec.Err = r.Err.Error()
	}
	rec.Lost = r.Lost
	return rec
}

// ParseStep rebuilds the step a simulator record was written for.
func ParseStep(rec *trace.Record) (Step, error) {
	k, err := ParseStepKind(rec.Step)
	if err != nil {
		return Step{}, err
	}
	s := Step{Kind: k, At: rec.T}
	switch k {
	case StepDeliver, StepDrop, StepDup, StepCorrupt:
		if rec.Slot == nil || rec.Recv == nil {
			return s, fmt.Errorf("%v step without slot or recv", k)
		}
		s.Slot, s.ID = *rec.Slot, MsgID(rec.Recv.ID)
		if k == StepCorrupt {
			if rec.Pos == nil || *rec.Pos < 0 || *rec.Pos > 0xffff {
				return s, errors.New("corrupt step without a pos in 0..65535")
			}
			s.Pos, s.Mask = uint16(*rec.Pos), rec.Mask
		}
	case StepClientTimer, StepStart:
		if rec.RegID == 0 {
			return s, fmt.Errorf("%v step without regid", k)
		}
		s.Client = int32(rec.RegID - 1)
	case StepServerTimer, StepIssue:
		s.RegID = protocol.RegID(rec.RegID)
	case StepFlood:
		if rec.Count < 1 {
			return s, errors.New("flood step without a count of at least 1")
		}
		s.Count = rec.Count
	case StepInsider:
		if rec.Recv == nil {
			return s, errors.New("insider step without recv")
		}
		e, err := EnvelopeOf(rec.Recv)
		if err != nil {
			return s, fmt.Errorf("recv: %w", err)
		}
		s.Msg = e.Msg
	case StepInject:
		if rec.Sent == nil {
			return s, fmt.Errorf("%v step without sent", k)
		}
		e, err := EnvelopeOf(rec.Sent)
		if err != nil {
			return s, fmt.Errorf("sent: %w", err)
		}
		s.Msg, s.Guess = e.Msg, e.Guess
	}
	return s, nil
}

// traceConfig is cfg as a trace header records it; Profile, Variant and
// Seed are the header's own fields.
func (cfg Config) traceConfig() *trace.SimConfig {
	return &trace.SimConfig{Clients: cfg.Clients, Handshakes: cfg.Handshakes, Commands: cfg.Commands, CommandGap: cfg.CommandGap,
		Rate: cfg.Rate, Upstream: trace.Channel(cfg.Upstream), Push: trace.Channel(cfg.Push),
		Adversary: cfg.Adversary, AdversaryRate: cfg.AdversaryRate, Horizon: cfg.Horizon}
}

// configOf rebuilds the configuration a header records; hd.Config is set.
func configOf(hd *trace.Header) Config {
	c := hd.Config
	return Config{Profile: hd.Profile, Variant: hd.Variant, Seed: hd.Seed,
		Clients: c.Clients, Handshakes: c.Handshakes, Commands: c.Commands, CommandGap: c.CommandGap,
		Rate: c.Rate, Upstream: Channel(c.Upstream), Push: Channel(c.Push),
		Adversary: c.Adversary, AdversaryRate: c.AdversaryRate, Horizon: c.Horizon}
}
