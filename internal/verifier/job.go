package verifier

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/verishake/verishake/adversary"
	"github.com/verishake/verishake/engine"
	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/sim"
	"github.com/verishake/verishake/sim/explore"
	"github.com/verishake/verishake/trace"
)

// Bounds are the explorer's budgets, as the check flags set them.
type Bounds struct {
	Clients  int `json:"clients"`
	Sessions int `json:"sessions"`
	Losses   int `json:"losses"`
	Dups     int `json:"dups"`
	Injects  int `json:"injects"`
	Retries  int `json:"retries"`
	// Retransmits bounds the client re-sends along a path, all clients
	// together (0: only Retries bounds them).
	Retransmits int `json:"retransmits,omitempty"`
	Commands    int `json:"commands"`
}

// String is the bounds as check's first line and the plot's subtitle
// print them.
func (b Bounds) String() string {
	s := fmt.Sprintf("%d client(s) × %d session(s), losses %d, dups %d, injects %d, retries ≤ %d",
		b.Clients, b.Sessions, b.Losses, b.Dups, b.Injects, b.Retries)
	if b.Retransmits > 0 {
		s += fmt.Sprintf(", retransmissions ≤ %d in all", b.Retransmits)
	}
	return s + fmt.Sprintf(", commands %d", b.Commands)
}

// Job is one exploration: a profile, its bounds and threat model.
type Job struct {
	Profile   protocol.Profile
	Variant   string
	Bounds    Bounds
	Caps      adversary.Capabilities
	Agree     bool
	Symmetry  bool
	Rename    bool
	Workers   int
	MaxStates int
	StopOn    []string
	// StopAtFirst ends the search after the first level at which any
	// property is violated (explore.Config.StopAtFirst).
	StopAtFirst bool
	// CexDir is where counterexample traces go ("": none is written).
	CexDir  string
	Tag     string // names this run in counterexample file names
	Memory  int64  // the search's memory budget in bytes (0: none)
	WorkDir string // where levels go to disk ("": they stay in memory)
	// Checkpoint is where the search checkpoints each level ("": none),
	// resuming the one there when Resume is set; Identity names the
	// job's configuration in it.
	Checkpoint string
	Resume     bool
	Identity   string
	// Compact keeps the visited set lossily (engine.Config.Compact), in a
	// table of CompactSize bytes (0: CompactTable's default).
	Compact     engine.Compaction
	CompactSize int64
}

// CheckReport is `check --json` (less check's coverage).
type CheckReport struct {
	Profile       string  `json:"profile"`
	Variant       string  `json:"variant"`
	Bounds        Bounds  `json:"bounds"`
	Adversary     string  `json:"adversary"`
	States        uint64  `json:"states"`
	Transitions   uint64  `json:"transitions"`
	Depth         int     `json:"depth"`
	Complete      bool    `json:"complete"`
	Seconds       float64 `json:"seconds"`
	StatesPerSec  float64 `json:"states_per_sec"`
	BytesPerState float64 `json:"bytes_per_state"`
	// Symmetry: states were merged up to a renaming of the honest clients;
	// RenameTokens: up to a renaming of their tokens.
	Symmetry     bool `json:"symmetry"`
	RenameTokens bool `json:"rename_tokens"`
	// Interrupted: Ctrl-C stopped the search (Complete is then false).
	Interrupted bool `json:"interrupted,omitempty"`
	// Stopped says why an incomplete search stopped: max states, memory
	// budget, or what went wrong with the work directory.
	Stopped string `json:"stopped,omitempty"`
	// MemoryBudget is the budget the search ran under (bytes; absent:
	// none) and Memory the most it held as the budget counts it; WorkDir
	// where its levels went and Disk the most bytes they took there.
	MemoryBudget int64      `json:"memory_budget,omitempty"`
	Memory       int64      `json:"memory,omitempty"`
	WorkDir      string     `json:"work_dir,omitempty"`
	Disk         int64      `json:"disk,omitempty"`
	Properties   []Property `json:"properties"`
	// Compact is a lossy search's compaction and what it may have omitted.
	Compact *CompactReport `json:"compact,omitempty"`
}

// Run explores and turns the report into verdicts, writing each
// counterexample as a trace under the job's directory.
func (j Job) Run(ctx context.Context, progress func(explore.Progress)) (CheckReport, error) {
	p := j.Profile
	p.Retries = min(p.Retries, j.Bounds.Retries)
	h, err := p.Compile()
	if err != nil {
		return CheckReport{}, err
	}
	// With no injections the adversary can still be the insider, running
	// its own handshake, which costs none.
	var adv sim.Adversary
	if j.Bounds.Injects > 0 && j.Caps != (adversary.Capabilities{}) || j.Caps.Insider {
		adv = adversary.NewExplorer(j.Caps, j.Bounds.Clients, protocol.RegID(j.Bounds.Clients+1))
	}
	rep, compacted, err := exploreCompacted(ctx, j.Compact, j.CompactSize, explore.Config{
		Handshake: h, Clients: j.Bounds.Clients, Sessions: j.Bounds.Sessions, Commands: j.Bounds.Commands,
		Losses: j.Bounds.Losses, Dups: j.Bounds.Dups, Injects: j.Bounds.Injects, Retransmits: j.Bounds.Retransmits, Adversary: adv,
		RetriesCapped: j.capped(),
		Agree:         j.Agree, Symmetry: j.Symmetry, RenameTokens: j.Rename, Workers: j.Workers, MaxStates: j.MaxStates, StopOn: j.StopOn, StopAtFirst: j.StopAtFirst, Progress: progress,
		WorkDir: j.WorkDir, MemoryBudget: j.Memory, Checkpoint: j.Checkpoint, Resume: j.Resume, Identity: j.Identity,
	})
	if err != nil {
		return CheckReport{}, err
	}
	out := CheckReport{
		Profile: j.Profile.Name, Variant: j.Variant, Bounds: j.Bounds, Adversary: j.Caps.String(),
		States: rep.States, Transitions: rep.Transitions, Depth: rep.Depth, Complete: rep.Complete,
		Seconds: rep.Elapsed.Seconds(), StatesPerSec: rep.StatesPerSec(), BytesPerState: rep.BytesPerState,
		Symmetry: rep.Symmetry, RenameTokens: rep.RenameTokens, Stopped: rep.Stopped,
		MemoryBudget: j.Memory, WorkDir: cmp.Or(j.Checkpoint, j.WorkDir), Compact: compacted,
	}
	if j.Memory > 0 {
		out.Memory = rep.Memory
	}
	if out.WorkDir != "" {
		out.Disk = rep.Disk
	}
	switch {
	case adv == nil:
		out.Adversary = "none"
	case j.Bounds.Injects == 0:
		out.Adversary = "insider (its own handshake only)"
	}
	for _, id := range explore.Properties {
		if id == protocol.Agree && !j.Agree {
			continue
		}
		r := Property{ID: id, By: "explore"}
		r.Set(VerdictUnknown)
		if c, bad := rep.Violated(id); bad {
			r.Set(VerdictViolated)
			r.Reason, r.Steps = c.Reason, len(c.Steps)
			path, err := j.WriteCounterexample(c)
			if err != nil {
				return out, err
			}
			if path != "" { // none without a --cex directory
				r.Counterexample = &Counterexample{File: path, Steps: len(c.Steps), Property: id, Replay: "verishake replay " + ShellQuote(path)}
			}
		} else if rep.Complete {
			r.Set(VerdictHolds)
		}
		out.Properties = append(out.Properties, r)
	}
	if compacted != nil {
		markLossy(out.Properties)
	}
	return out, nil
}

// capped reports whether the bounds cap the profile's retries below its
// own, which AGREE's excuse needs to know (explore.Config.RetriesCapped).
func (j Job) capped() bool { return j.Bounds.Retries < j.Profile.Retries }

// WriteCounterexample writes c as a trace `verishake replay` re-runs, in
// CexDir, named by the profile, the job's configuration and the property;
// with no CexDir it writes nothing and returns "".
func (j Job) WriteCounterexample(c explore.Counterexample) (string, error) {
	if j.CexDir == "" {
		return "", nil
	}
	p := j.Profile
	p.Retries = min(p.Retries, j.Bounds.Retries) // the profile the search ran
	f, path, err := CreateCounterexample(j.CexDir, cexName(p.Name, j.configuration(), c.Property))
	if err != nil {
		return "", fmt.Errorf("--cex: %w", err)
	}
	cfg := sim.DefaultConfig()
	cfg.Profile, cfg.Variant, cfg.Seed = p, j.Variant, 0
	cfg.Clients, cfg.Handshakes, cfg.Commands = j.Bounds.Clients, j.Bounds.Clients*j.Bounds.Sessions, j.Bounds.Commands
	target := trace.Target{Property: c.Property, Continuation: c.Continuation}
	if c.Property == protocol.Agree {
		target.RetriesCapped = j.capped()
	}
	if _, err := sim.TraceSteps(f, cfg, c.Steps, target); err != nil {
		f.Close()
		return "", fmt.Errorf("counterexample %s: %w", path, err)
	}
	return path, f.Close()
}

// configuration names the job's bounds and threat model in counterexample
// file names: verify's named runs by their tag, check's by its bounds.
func (j Job) configuration() string {
	if j.Tag != "" {
		return j.Tag
	}
	b := j.Bounds
	s := fmt.Sprintf("c%d-s%d-l%d-d%d-i%d-r%d", b.Clients, b.Sessions, b.Losses, b.Dups, b.Injects, b.Retries)
	if b.Retransmits > 0 {
		s += fmt.Sprintf("-g%d", b.Retransmits)
	}
	s += fmt.Sprintf("-k%d", b.Commands)
	if j.Caps != adversary.Default() {
		s += "-" + j.Caps.String()
	}
	return s
}

// cexName is a counterexample file's name without its suffix: the profile
// (with its variant), the configuration and the property, in characters
// that need no quoting in a shell.
func cexName(profile, configuration, property string) string {
	name := profile + "-" + configuration + "-" + property
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '-'
	}, name)
}

// CreateCounterexample creates dir/name.jsonl, or dir/name-2.jsonl and so
// on when that exists: a run never overwrites another run's trace.
func CreateCounterexample(dir, name string) (*os.File, string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, "", err
	}
	for n := 1; n <= 1000; n++ {
		path := filepath.Join(dir, name+".jsonl")
		if n > 1 {
			path = filepath.Join(dir, fmt.Sprintf("%s-%d.jsonl", name, n))
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, path, err
	}
	return nil, "", fmt.Errorf("%s: 1000 traces of that name already: clear the directory", filepath.Join(dir, name+".jsonl"))
}

// ShellQuote quotes s for a POSIX shell when it needs it.
func ShellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./+=:,@%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
