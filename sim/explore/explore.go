// Package explore is the handshake's exhaustive check: the world of sim
// and its claim ledger as an engine.Model (Model), searched breadth first
// by the engine, which knows no protocol, within this package's budgets.
// It checks AUTH-C, AUTH-S, CMD and BOUNDED on every transition, deadlock
// freedom (LIVE) and AGREE on every state, and reports for each violated
// property the shortest counterexample found: a list of sim.Steps that
// replays through sim.World.Apply.
//
// Breadth-first order is what makes counterexamples shortest: the first
// level at which a property fails is the length of the shortest path to a
// violating state. The engine expands each level in parallel and merges it
// in a fixed order, so the same configuration gives the same report
// whatever the number of workers.
package explore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/verishake/verishake/engine"
	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/sim"
)

// Config bounds an exploration.
type Config struct {
	// Handshake is the compiled profile the machines run.
	Handshake *protocol.Handshake
	// Clients is the number of honest clients; Sessions the handshakes each
	// may start; Commands the commands the server issues per verified session.
	Clients, Sessions, Commands int
	// Losses, Dups, Corrupts and Injects bound the network's and the
	// adversary's nondeterministic steps along any one path.
	Losses, Dups, Corrupts, Injects int
	// Retransmits bounds the client re-sends along any one path, all
	// clients together (zero: only the profile's Retries bound them); see
	// sim.Limits.Retransmits.
	Retransmits int
	// Adversary proposes injections (nil: none). It must implement
	// sim.Explorable to offer any.
	Adversary sim.Adversary
	// Agree checks AGREE on every state: the fault-free continuation from
	// the state must end with each client and the server agreeing.
	Agree bool
	// RetriesCapped says the Handshake's Retries are a cap the search put
	// below the profile's own (check's --retries): AGREE then excuses a
	// client at the cap after a loss, even at a cap of 0, since the real
	// protocol would re-send (sim.World.AgreeApplies).
	RetriesCapped bool
	// Symmetry keeps one state per renaming of the honest clients (see
	// sim.World.SymmetricFingerprint): with two or more clients, states
	// that differ only in which client is which are one state. It is sound
	// for the properties checked, which speak of one RegID at a time, and
	// it is used only when the world's adversary treats every honest client
	// alike (sim.World.Symmetric); Report.Symmetry says whether it was.
	Symmetry bool
	// RenameTokens keeps one state per renaming of the symbolic tokens
	// (see sim.Names): states that differ only in the names their tokens
	// got are one state. Sound for the same reason (tokens are only ever
	// compared for equality); used when the world is sim.World.Renamable;
	// Report.RenameTokens says whether it was.
	RenameTokens bool
	// Workers expand a level in parallel (0: GOMAXPROCS).
	Workers int
	// MaxStates stops the search once that many states are stored (0: no
	// limit): the level being merged keeps its first states up to the
	// limit, in the search's order, and the report is incomplete, never a
	// pass.
	MaxStates int
	// StopOn ends the search after the level at which every property it
	// lists has been violated (a variant check wants one counterexample,
	// not the whole state space); the report is then incomplete.
	StopOn []string
	// StopAtFirst ends the search after the first level at which any
	// property is violated (engine.Config.StopAtFirst): a caller that needs
	// only to know whether everything holds (a repair search) stops there;
	// the report is then incomplete.
	StopAtFirst bool
	// Progress, if set, is called after each level.
	Progress func(Progress)
	// WorkDir, if set, keeps each level's frontier and parent records in
	// files there (engine.Config.WorkDir), removed when the search ends.
	WorkDir string
	// MemoryBudget bounds the search's memory in bytes (0: none); a search
	// that would need more stops incomplete (engine.Config.MemoryBudget).
	MemoryBudget int64
	// Checkpoint, Resume and Identity checkpoint the search after each
	// level and resume it (engine.Config.Checkpoint): Identity names the
	// configuration, and a resume with another is refused.
	Checkpoint string
	Resume     bool
	Identity   string
}

// Progress is the state of a running exploration: the engine's.
type Progress = engine.Progress

// Report is what an exploration found.
type Report struct {
	States, Transitions uint64
	// Depth is the number of levels explored (the longest shortest path).
	Depth int
	// Complete is false when MaxStates or the context stopped the search:
	// properties not violated so far are then unknown, not held.
	Complete bool
	Elapsed  time.Duration
	// BytesPerState is the fingerprint table's size over the states stored.
	BytesPerState float64
	// Symmetry is true when states were merged up to a renaming of the
	// honest clients (Config.Symmetry, with two clients or more and an
	// adversary that treats them alike).
	Symmetry bool
	// RenameTokens is true when states were merged up to a renaming of
	// their tokens (Config.RenameTokens, on a renamable world).
	RenameTokens bool
	// Counterexamples holds one shortest counterexample per violated
	// property, ordered by property.
	Counterexamples []Counterexample
	// Taken counts the transitions tried by step kind: a kind the bounds
	// allow and the search never took is a gap in the model.
	Taken map[sim.StepKind]uint64
	// Stopped says why an incomplete search stopped (engine.Report.Stopped):
	// max states, memory budget, cancelled, or a work directory failure.
	Stopped string
	// Memory and Disk are the most bytes the search held in memory (as
	// the budget counts them) and in its work directory.
	Memory, Disk int64
}

// StatesPerSec is the exploration rate.
func (r Report) StatesPerSec() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.States) / r.Elapsed.Seconds()
}

// Violated returns the counterexample for property, if it was violated.
func (r Report) Violated(property string) (Counterexample, bool) {
	i := slices.IndexFunc(r.Counterexamples, func(c Counterexample) bool { return c.Property == property })
	if i < 0 {
		return Counterexample{}, false
	}
	return r.Counterexamples[i], true
}

// Counterexample is a path from the initial world to a violation.
type Counterexample struct {
	Property string
	Reason   string
	Steps    []sim.Step
	// Continuation is how many of the last Steps are AGREE's fault-free
	// continuation (sim.World.Disagreement), taken from the violating
	// state: the shortest path to that state is the steps before them.
	Continuation int
}

// Path is the length of the path to the violating state: the steps less
// AGREE's continuation. It is what breadth-first search makes shortest.
func (c Counterexample) Path() int { return len(c.Steps) - c.Continuation }

// Properties lists what the explorer checks, in report order.
var Properties = []string{protocol.AuthC, protocol.AuthS, protocol.Cmd, protocol.Bounded, protocol.Live, protocol.Agree}

// ErrConfig marks a configuration the explorer cannot run.
var ErrConfig = errors.New("explore: bad configuration")

// Run explores every world reachable within cfg's budgets: the handshake
// as a Model, searched by the engine.
func Run(ctx context.Context, cfg Config) (Report, error) {
	m, err := NewModel(cfg)
	if err != nil {
		return Report{}, err
	}
	ec := engine.Config{Workers: cfg.Workers, MaxStates: cfg.MaxStates, StopOn: cfg.StopOn, StopAtFirst: cfg.StopAtFirst,
		WorkDir: cfg.WorkDir, MemoryBudget: cfg.MemoryBudget, Checkpoint: cfg.Checkpoint, Resume: cfg.Resume, Identity: cfg.Identity}
	for _, p := range cfg.StopOn {
		if p == protocol.Agree && !cfg.Agree || !slices.Contains(Properties, p) {
			ec.StopOn = nil // a property never checked is never violated: no early stop
		}
	}
	ec.Progress = cfg.Progress
	er, err := engine.Search(ctx, m, ec)
	if err != nil {
		return Report{}, fmt.Errorf("explore: %w", err)
	}
	r := Report{
		States: er.States, Transitions: er.Transitions, Depth: er.Depth, Complete: er.Complete, Elapsed: er.Elapsed,
		BytesPerState: float64(er.VisitedBytes) / float64(max(er.States, 1)),
		Symmetry:      m.sym, RenameTokens: m.rename,
		Taken:   map[sim.StepKind]uint64{},
		Stopped: er.Stopped, Memory: er.Memory, Disk: er.Disk,
	}
	for k, n := range er.Taken {
		if n > 0 {
			r.Taken[sim.StepKind(k)] = n
		}
	}
	for _, c := range er.Counterexamples {
		r.Counterexamples = append(r.Counterexamples, Counterexample{Property: c.Property, Reason: c.Reason,
			Steps: m.Steps(c.Actions), Continuation: c.Continuation})
	}
	return r, nil
}

// ReadCheckpoint describes the checkpoint in dir: the Identity it was
// made with, for a caller to say how a resume's configuration differs,
// and the level it resumes at.
func ReadCheckpoint(dir string) (engine.CheckpointInfo, error) {
	c, err := engine.ReadCheckpoint(dir)
	if err != nil {
		return c, fmt.Errorf("explore: %w", err)
	}
	return c, nil
}

// fingerprintOf is a state's fingerprint: the world's and the ledger's
// (whose hash is lh), with symmetry up to client renaming, with token
// renaming up to the tokens' names (names is the caller's scratch).
func fingerprintOf(w *sim.World, l ledger, lh uint64, names *sim.Names, sym, rename bool) uint64 {
	switch {
	case sym && rename:
		return w.SymmetricFingerprintNamed(names, func(id protocol.RegID) uint64 { return l.hashOfNamed(id, names) })
	case sym:
		return w.SymmetricFingerprint(l.hashOf)
	case rename:
		return w.FingerprintNamed(names, func() uint64 { return l.hashNamed(names) })
	}
	return uint64(mixer(w.Fingerprint()).add(lh))
}

// newWorld is the initial world of cfg's exploration.
func newWorld(cfg Config) (*sim.World, error) {
	if cfg.Retransmits < 0 {
		return nil, fmt.Errorf("%w: Retransmits %d is negative", ErrConfig, cfg.Retransmits)
	}
	if cfg.Handshake == nil || cfg.Clients < 1 || cfg.Sessions < 1 {
		return nil, fmt.Errorf("%w: need a handshake, at least one client and one session (have %d, %d)", ErrConfig, cfg.Clients, cfg.Sessions)
	}
	if x, ok := cfg.Adversary.(interface{ SetBudget(int) }); ok {
		x.SetBudget(cfg.Injects)
	}
	w, err := sim.NewWorld(cfg.Handshake, sim.WorldOptions{
		Clients:    cfg.Clients,
		Handshakes: cfg.Clients * cfg.Sessions,
		Commands:   cfg.Commands,
		Adversary:  cfg.Adversary,
		Limits: sim.Limits{Drops: cfg.Losses, Dups: cfg.Dups, Corrupts: cfg.Corrupts, Injects: cfg.Injects,
			StartsPerClient: cfg.Sessions, Retransmits: cfg.Retransmits},
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return w, nil
}

// sameAsEarlier reports whether step si of w does what an earlier step
// does: the same network step on a message equal to an earlier one's (a
// retransmission, a duplicate), or the same injection. Messages in flight
// count as a multiset and a machine sees only the message, so both steps
// reach worlds with equal fingerprints, by equal claims.
func sameAsEarlier(w *sim.World, steps []sim.Step, si int) bool {
	s := &steps[si]
	switch s.Kind {
	case sim.StepDeliver, sim.StepDrop, sim.StepDup:
		m := w.Message(s.Slot)
		for sj := si - 1; m != nil && sj >= 0; sj-- {
			if t := &steps[sj]; t.Kind == s.Kind && *w.Message(t.Slot) == *m {
				return true
			}
		}
	case sim.StepInject, sim.StepInsider:
		for sj := si - 1; sj >= 0; sj-- {
			t := &steps[sj]
			if t.Kind == s.Kind && t.Msg == s.Msg && t.Guess == s.Guess {
				return true
			}
		}
	}
	return false
}

// applyStep takes step s on w, and for an injection or an insider's
// message the delivery of the message, writing the results into res; it
// returns how many. Injections and floods are charged to the adversary's
// budget; the insider's own handshake is not.
func applyStep(w *sim.World, s *sim.Step, res *[2]sim.Result) int {
	apply(w, s, &res[0])
	switch s.Kind {
	case sim.StepInject, sim.StepFlood:
		if sp, ok := w.Adversary().(interface{ Spend() }); ok {
			sp.Spend()
		}
	}
	if s.Kind != sim.StepInject {
		return 1
	}
	d := deliverInjected(w, &res[0])
	apply(w, &d, &res[1])
	return 2
}

func deliverInjected(w *sim.World, r *sim.Result) sim.Step {
	return sim.Step{Kind: sim.StepDeliver, At: w.Now, Slot: r.SentSlot, ID: r.Sent.ID}
}

// apply takes a step the world enabled; a refusal is a bug in the world.
func apply(w *sim.World, s *sim.Step, r *sim.Result) {
	if err := w.ApplyInto(s, r); err != nil {
		panic(fmt.Sprintf("explore: enabled step %v refused: %v", *s, err))
	}
}
