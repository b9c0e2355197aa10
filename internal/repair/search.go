package repair

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/verishake/verishake/internal/verifier"
	"github.com/verishake/verishake/protocol"
)

// Config is a search.
type Config struct {
	// Base is the profile to repair, Variant its variant's name ("" for a
	// shipped profile).
	Base    protocol.Profile
	Variant string
	// Knobs are the knobs to change (DefaultKnobs(Base) when empty).
	Knobs []Knob
	// Plan is the checks a set of changes must pass (Plan when nil).
	Plan func(p protocol.Profile, variant string) verifier.Plan
	// MaxChecks stops the search after that many checks (0: no limit);
	// the result is then incomplete.
	MaxChecks int
	// CexDir, if set, is where the shortest counterexample of what still
	// breaks after each rejected single change is written as a trace
	// (`verishake replay` re-runs it: a trace records the profile's knobs).
	CexDir string
	// Progress, if set, is called after each check.
	Progress func(size, checks, pruned int)
}

// Plan is verify's quicker plan (verifier.QuickPlan: verify's simulations
// after explorations a third the size, most with one client) run to
// decide whether a set of changes works: verify's plan would take three
// times as long on each set, and a set that works is confirmed by verify
// itself. The checks run the cheapest first
// and each stopped at its first violation (StopAtFirst), since one
// violation rejects the set. A set that works ran every check to its end.
func Plan(p protocol.Profile, variant string) verifier.Plan {
	plan := verifier.QuickPlan(p, variant)
	plan.StopAtFirst = true
	// The cost order measured on hardened and patent: the two-client
	// exploration is most of verify's time, the forge simulation is slow
	// on a profile that loses LIVE.
	rank := map[string]int{"explore: network faults": 0, "sim: no faults": 1, "sim: 10% loss, 5% duplication": 2,
		"explore: adversary": 3, "sim: adversary forge": 8, "explore: two clients": 9}
	slices.SortStableFunc(plan.Checks, func(a, b verifier.Check) int {
		ra, ok := rank[a.Name]
		if !ok {
			ra = 5
		}
		rb, ok := rank[b.Name]
		if !ok {
			rb = 5
		}
		return ra - rb
	})
	return plan
}

// Found is a minimal set of changes and the report that shows every
// property holding with it.
type Found struct {
	Changes Set             `json:"changes"`
	Report  verifier.Report `json:"report"`
	// Without says, for each change, what breaks first when the set is
	// made without it (Change is the change left out): the search checked
	// every such subset before the set.
	Without []Rejected `json:"without"`
}

// Rejected is a change that does not work, and what still breaks.
type Rejected struct {
	Change Change `json:"change"`
	// Broken are the properties the first failing check violated (or left
	// unknown).
	Broken []Broken `json:"broken"`
}

// Broken is a property a set of changes does not keep.
type Broken struct {
	Property string `json:"property"`
	Verdict  string `json:"verdict"` // violated, or unknown (a check cut short)
	Reason   string `json:"reason,omitempty"`
	// Steps is the explorer's shortest counterexample's length (0 when a
	// simulation found it).
	Steps int    `json:"steps,omitempty"`
	By    string `json:"by"` // the check that found it
	// Counterexample is the explorer's counterexample as a trace, for a
	// rejected single change when Config.CexDir is set.
	Counterexample *verifier.Counterexample `json:"counterexample,omitempty"`
}

// Result is what a search found.
type Result struct {
	Profile string   `json:"profile"`
	Variant string   `json:"variant"`
	Knobs   []string `json:"knobs"`
	// Space is the number of sets of changes the knobs allow, the empty
	// set included.
	Space int `json:"space"`
	// Base is the report on the profile unchanged.
	Base     verifier.Report `json:"base"`
	Minimal  []Found         `json:"minimal"`
	Rejected []Rejected      `json:"rejected_single_changes"`
	// Checks is how many sets were checked (each a run of the plan), Pruned
	// how many were skipped as supersets of a set that works.
	Checks int `json:"checks"`
	Pruned int `json:"pruned"`
	// Explorations is how many explorations the checks ran, Reused how many
	// more they took from an equal one run before; Traced how many checks
	// were run again after the search, to write the counterexamples of the
	// rejected single changes (Config.CexDir).
	Explorations int `json:"explorations"`
	Reused       int `json:"reused_explorations"`
	Traced       int `json:"traced"`
	// Complete is false when MaxChecks or the context cut the search
	// (Interrupted says which): a set not checked may be minimal. The sets
	// in Minimal are minimal all the same: every smaller set was checked.
	Complete    bool    `json:"complete"`
	Interrupted bool    `json:"interrupted,omitempty"`
	Seconds     float64 `json:"seconds"`
}

// Search finds every minimal set of changes to cfg.Base's knobs under which
// every property holds. It checks the sets by size, smallest first, and
// skips a set only when it contains a set already found to work: such a
// set is not minimal, whatever its verdicts. Nothing else is skipped,
// because the verdicts are not monotone in the changes (a change that
// fixes one property can break another, and one that breaks can be needed
// with another that fixes). Once every set of some size is skipped, every
// larger one would be too (each contains a skipped set, so a working
// one), and the search ends.
func Search(ctx context.Context, cfg Config) (Result, error) {
	start := time.Now()
	if len(cfg.Knobs) == 0 {
		cfg.Knobs = DefaultKnobs(cfg.Base)
	}
	if cfg.Plan == nil {
		cfg.Plan = Plan
	}
	res := Result{Profile: cfg.Base.Name, Variant: cfg.Variant, Space: 1, Complete: true}
	// alternatives[i] are knob i's values other than Base's.
	alternatives := make([][]string, len(cfg.Knobs))
	for i, k := range cfg.Knobs {
		res.Knobs = append(res.Knobs, k.Name)
		now := k.get(cfg.Base)
		for _, v := range k.values {
			if v != now {
				alternatives[i] = append(alternatives[i], v)
			}
		}
		res.Space *= 1 + len(alternatives[i])
	}
	explored := &explorations{}
	// failed keeps what broke first for every set checked that does not
	// work, to say what each change of a minimal set is needed for.
	failed := map[string][]Broken{}
	check := func(s Set) (verifier.Report, bool, error) {
		p := s.Apply(cfg.Base)
		plan := cfg.Plan(p, cfg.Variant)
		plan.Explore = explored.run
		rep, err := verifier.Run(ctx, p, cfg.Variant, "", plan)
		res.Checks++
		if err == nil && verifier.Status(rep.Properties) != verifier.StatusOK {
			failed[s.String()] = broken(rep)
		}
		return rep, err == nil && verifier.Status(rep.Properties) == verifier.StatusOK, err
	}
	rep, works, err := check(nil)
	if err == nil && ctx.Err() != nil {
		res.Complete, res.Interrupted = false, true
		return res, nil
	}
	if err != nil {
		return res, err
	}
	res.Base = rep
	if works {
		res.Minimal = []Found{{Changes: Set{}, Report: rep}}
		res.Seconds = time.Since(start).Seconds()
		res.Explorations, res.Reused = explored.ran, explored.reused
		return res, nil
	}
	for size := 1; size <= len(cfg.Knobs); size++ {
		checked := 0
		stop := false
		err := eachSet(cfg.Knobs, alternatives, size, func(s Set) (bool, error) {
			if slices.ContainsFunc(res.Minimal, func(f Found) bool { return s.contains(f.Changes) }) {
				res.Pruned++
				return true, nil
			}
			if cfg.MaxChecks > 0 && res.Checks >= cfg.MaxChecks {
				res.Complete, stop = false, true
				return false, nil
			}
			checked++
			rep, works, err := check(s)
			if err != nil {
				return false, err
			}
			switch {
			case works:
				f := Found{Changes: slices.Clone(s), Report: rep}
				for i, c := range s {
					f.Without = append(f.Without, Rejected{Change: c, Broken: failed[s.Without(i).String()]})
				}
				res.Minimal = append(res.Minimal, f)
			case size == 1:
				res.Rejected = append(res.Rejected, Rejected{Change: s[0], Broken: broken(rep)})
			}
			if cfg.Progress != nil {
				cfg.Progress(size, res.Checks, res.Pruned)
			}
			return true, ctx.Err()
		})
		if err != nil && ctx.Err() != nil {
			// The check under way was cut: it proves nothing either way.
			res.Complete, res.Interrupted = false, true
			break
		}
		if err != nil {
			return res, err
		}
		if stop || checked == 0 {
			break
		}
	}
	res.Explorations, res.Reused = explored.ran, explored.reused
	if cfg.CexDir != "" && !res.Interrupted {
		if err := traceRejected(ctx, cfg, &res); err != nil {
			return res, err
		}
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// traceRejected runs the check of each rejected single change again,
// writing its counterexamples under cfg.CexDir: the same plan on the same
// profile finds the same violations first. The profile is named after the
// change, which names the traces.
func traceRejected(ctx context.Context, cfg Config, res *Result) error {
	for i, rej := range res.Rejected {
		s := Set{rej.Change}
		p := s.Apply(cfg.Base)
		p.Name += "+" + s.String()
		rep, err := verifier.Run(ctx, p, cfg.Variant, cfg.CexDir, cfg.Plan(p, cfg.Variant))
		if err != nil {
			return err
		}
		res.Traced++
		for j, b := range rej.Broken {
			// Only the explorer's: a simulation's replay command names the
			// shipped profile, not the changed one.
			if v, ok := rep.Verdict(b.Property); ok && v.Counterexample != nil && v.Counterexample.File != "" {
				res.Rejected[i].Broken[j].Counterexample = v.Counterexample
			}
		}
	}
	return nil
}

// broken are the properties rep does not show holding: the violated ones,
// or, when a check was cut short before any violation, the unknown ones.
func broken(rep verifier.Report) []Broken {
	var violated, unknown []Broken
	for _, p := range rep.Properties {
		b := Broken{Property: p.ID, Verdict: p.Verdict, Reason: p.Reason, Steps: p.Steps, By: p.By}
		switch p.Verdict {
		case verifier.VerdictViolated:
			violated = append(violated, b)
		case verifier.VerdictUnknown:
			unknown = append(unknown, b)
		}
	}
	if len(violated) > 0 {
		return violated
	}
	return unknown
}

// eachSet calls f with every set of size changes, one value from each of
// size knobs, knobs in order; f returns false to stop.
func eachSet(knobs []Knob, alternatives [][]string, size int, f func(Set) (bool, error)) error {
	s := make(Set, size)
	var pick func(from, depth int) (bool, error)
	pick = func(from, depth int) (bool, error) {
		if depth == size {
			return f(s)
		}
		for i := from; i <= len(knobs)-(size-depth); i++ {
			for _, v := range alternatives[i] {
				s[depth] = Change{Knob: knobs[i].Name, Value: v}
				if more, err := pick(i+1, depth+1); !more || err != nil {
					return more, err
				}
			}
		}
		return true, nil
	}
	_, err := pick(0, 0)
	return err
}

// explorations remembers the explorations a search ran. Sets that differ
// only beyond an exploration's bounds make the same job: the explorer caps
// the profile's retries at the bounds' (Job.Run), so Retries=1, 2 and 8 are
// one exploration with one retry, and the same one with none. The job is
// the whole input of the exploration, so its report is reused whole (the
// counterexample files aside: a search writes none).
type explorations struct {
	done        map[string]verifier.CheckReport
	ran, reused int
}

func (e *explorations) run(ctx context.Context, j verifier.Job) (verifier.CheckReport, error) {
	key := j
	key.Profile.Retries = min(key.Profile.Retries, key.Bounds.Retries)
	raw, err := json.Marshal(key)
	if j.CexDir != "" || err != nil {
		e.ran++
		return j.Run(ctx, nil)
	}
	if r, ok := e.done[string(raw)]; ok {
		e.reused++
		r.Seconds = 0 // no time spent
		return r, nil
	}
	e.ran++
	r, err := j.Run(ctx, nil)
	if err == nil && ctx.Err() == nil {
		if e.done == nil {
			e.done = map[string]verifier.CheckReport{}
		}
		e.done[string(raw)] = r
	}
	return r, err
}
