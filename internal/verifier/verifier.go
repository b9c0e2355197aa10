package verifier

import (
	"context"
	"fmt"

	"github.com/verishake/verishake/adversary"
	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/sim"
)

// exploration is a named exhaustive run of a plan.
type exploration struct {
	name, tag string
	b         Bounds
	caps      adversary.Capabilities
}

// verifyExplorations are verify's exhaustive runs: each has two honest
// clients, two commands per session and the insider running its own
// handshake (it pays nothing for it), and each is complete. Network
// faults have the insider as their only adversary: a loss and a duplicate
// with no retransmission, then a retransmission (one, all clients
// together) with a loss, and with a duplicate. The adversary's run has
// one injection and no network fault or retransmission. Two clients with
// a loss, a duplicate and a retransmission take 11.9 million states, with
// the adversary and a retransmission 19.9 million: past verify's minute
// (docs/properties.md, "What verify explores").
var verifyExplorations = []exploration{
	{"explore: loss and duplication", "faults", Bounds{Clients: 2, Sessions: 1, Losses: 1, Dups: 1, Retries: 0, Commands: 2}, insiderOnly},
	{"explore: loss and retransmission", "loss-retransmit", Bounds{Clients: 2, Sessions: 1, Losses: 1, Retries: 1, Retransmits: 1, Commands: 2}, insiderOnly},
	{"explore: duplication and retransmission", "dup-retransmit", Bounds{Clients: 2, Sessions: 1, Dups: 1, Retries: 1, Retransmits: 1, Commands: 2}, insiderOnly},
	{"explore: adversary", "adversary", Bounds{Clients: 2, Sessions: 1, Injects: 1, Retries: 0, Commands: 2}, adversary.Default()},
}

// quickExplorations are QuickPlan's: network faults for one client (a
// loss, a duplicate, one retransmission), the adversary against one
// client, then the adversary between two clients without retransmissions;
// 3.8 million states on hardened, against verify's 10 million.
var quickExplorations = []exploration{
	{"explore: network faults", "faults", Bounds{Clients: 1, Sessions: 1, Losses: 1, Dups: 1, Retries: 1, Commands: 2}, insiderOnly},
	{"explore: adversary", "adversary", Bounds{Clients: 1, Sessions: 1, Injects: 1, Retries: 1, Commands: 2}, adversary.Default()},
	{"explore: two clients", "two-clients", Bounds{Clients: 2, Sessions: 1, Injects: 1, Retries: 0, Commands: 2}, adversary.Default()},
}

// insiderOnly is the adversary of the fault runs: the insider, with its
// own handshake and no injection.
var insiderOnly = adversary.Capabilities{Insider: true}

// DefaultMaxStates is where verify cuts an exploration short.
const DefaultMaxStates = 20_000_000

// Exploration is one exhaustive run of a plan.
type Exploration struct {
	Tag    string // names the run in counterexample file names
	Bounds Bounds
	Caps   adversary.Capabilities
}

// Check is one run of a plan: an exploration or a simulation (exactly one
// is set), under the name reports give it.
type Check struct {
	Name    string
	Explore *Exploration
	Sim     *sim.Config
}

// Plan is the checks a verification runs, in order.
type Plan struct {
	Checks    []Check
	MaxStates int // per exploration; 0: no limit
	// StopAtFirst stops at the first check that violates a property, and
	// each exploration at its first violation: for a caller that needs
	// only to know whether every property holds. The verdicts of the
	// properties not reached are then unknown, and Report.Stopped is set.
	StopAtFirst bool
	// Explore runs an exploration (Job.Run when nil). A caller that checks
	// many profiles may hand back the report of an equal job it ran before:
	// an exploration's verdicts are a function of its job.
	Explore func(context.Context, Job) (CheckReport, error)
}

// DefaultPlan is what `verishake verify` runs on p: the explorations, then
// the simulations.
func DefaultPlan(p protocol.Profile, variant string) Plan {
	return planOf(verifyExplorations, p, variant)
}

// QuickPlan is verify's simulations after explorations a third the size:
// most with one client (quickExplorations). Repair runs it on every set of
// changes it tries, and tests that need a verdict on every property use
// parts of it; what it finds holding, verify confirms at its own bounds.
func QuickPlan(p protocol.Profile, variant string) Plan { return planOf(quickExplorations, p, variant) }

func planOf(explorations []exploration, p protocol.Profile, variant string) Plan {
	plan := Plan{MaxStates: DefaultMaxStates}
	for _, run := range explorations {
		plan.Checks = append(plan.Checks, Check{Name: run.name, Explore: &Exploration{Tag: run.tag, Bounds: run.b, Caps: run.caps}})
	}
	for _, run := range verifySims(p, variant) {
		plan.Checks = append(plan.Checks, Check{Name: run.name, Sim: &run.cfg})
	}
	return plan
}

// verifySim is one simulation verify makes.
type verifySim struct {
	name string
	cfg  sim.Config
}

// verifySims are the simulations: the platform with no fault (DELIVER: every
// command issued on a verified session executed once), the lossy platform
// without an adversary (LIVE, and the claim monitors at scale), then each
// attack strategy.
func verifySims(p protocol.Profile, variant string) []verifySim {
	base := sim.DefaultConfig()
	base.Profile, base.Variant, base.Seed = p, variant, 1
	lossy := base
	lossy.Handshakes = 20000
	lossy.Upstream.Loss, lossy.Push.Loss, lossy.Upstream.Dup, lossy.Push.Dup = 0.1, 0.1, 0.05, 0.05
	runs := []verifySim{{"sim: no faults", base}, {"sim: 10% loss, 5% duplication", lossy}}
	for _, s := range []string{"replay", "forge", "impersonate", "flood", "all"} {
		c := base
		c.Clients, c.Handshakes, c.Adversary = 100, 2000, s
		runs = append(runs, verifySim{"sim: adversary " + s, c})
	}
	return runs
}

// Report is `verify --json`.
type Report struct {
	Profile string `json:"profile"`
	Variant string `json:"variant"`
	// Holds is true when every property holds, false when one is
	// violated, null when none is violated and some are unknown.
	Holds        *bool          `json:"holds"`
	Properties   []Property     `json:"properties"`
	States       uint64         `json:"states"`
	StatesPerSec float64        `json:"states_per_sec"`
	Checks       []CheckSummary `json:"checks"`
	// Stopped: the plan's StopAtFirst ended the run at a violation, and
	// the checks after it did not run.
	Stopped bool `json:"stopped,omitempty"`
}

// CheckSummary is one of the runs verify made.
type CheckSummary struct {
	Name       string   `json:"name"`
	States     uint64   `json:"states,omitempty"`
	Handshakes uint64   `json:"handshakes,omitempty"`
	Seconds    float64  `json:"seconds"`
	Violated   []string `json:"violated"`
}

// Verdict returns the report's verdict for the property id.
func (r Report) Verdict(id string) (Property, bool) {
	for _, p := range r.Properties {
		if p.ID == id {
			return p, true
		}
	}
	return Property{}, false
}

// Run runs plan's checks on p (the profile named as variant, "" for a
// shipped one), writing counterexample traces under cexDir ("": none),
// and merges them into one verdict per property: violated if any check
// violates it (the first counterexample is kept), holds if some check
// covers it and none violates it.
func Run(ctx context.Context, p protocol.Profile, variant, cexDir string, plan Plan) (Report, error) {
	rep := Report{Profile: p.Name, Variant: variant}
	verdicts := map[string]*Property{}
	for _, id := range Properties {
		verdicts[id] = &Property{ID: id}
		verdicts[id].Set(VerdictUnknown)
	}
	merge := func(r Property, by string) {
		v := verdicts[r.ID]
		switch {
		case r.Verdict == VerdictViolated && v.Verdict != VerdictViolated:
			*v = r
			v.Set(VerdictViolated)
			v.By = by
		case r.Verdict == VerdictHolds && v.Verdict == VerdictUnknown && !v.cut:
			v.Set(VerdictHolds)
			v.By = by
		case r.Verdict == VerdictHolds && v.Verdict == VerdictHolds:
			v.By += "; " + by
		case r.Verdict == VerdictUnknown && v.Verdict != VerdictViolated:
			// One check could not finish: the property is not proved
			// there, whatever the others found.
			v.Set(VerdictUnknown)
			v.By, v.cut = by, true
		}
	}
	var explored, seconds float64
	for _, check := range plan.Checks {
		var sum CheckSummary
		var err error
		if check.Explore != nil {
			var cr CheckReport
			sum, cr, err = runExploration(ctx, p, variant, cexDir, plan, check, merge)
			rep.States += cr.States
			explored += float64(cr.States)
			seconds += cr.Seconds
		} else {
			sum, err = runSimulation(check, merge)
		}
		if err != nil {
			return rep, err
		}
		rep.Checks = append(rep.Checks, sum)
		if plan.StopAtFirst && len(sum.Violated) > 0 {
			rep.Stopped = true
			break
		}
	}
	if seconds > 0 {
		rep.StatesPerSec = explored / seconds
	}
	for _, id := range Properties {
		rep.Properties = append(rep.Properties, *verdicts[id])
	}
	switch Status(rep.Properties) {
	case StatusOK:
		rep.Holds = ptr(true)
	case StatusViolated:
		rep.Holds = ptr(false)
	}
	return rep, nil
}

func runExploration(ctx context.Context, p protocol.Profile, variant, cexDir string, plan Plan, check Check, merge func(Property, string)) (CheckSummary, CheckReport, error) {
	x := check.Explore
	job := Job{Profile: p, Variant: variant, Bounds: x.Bounds, Caps: x.Caps, Agree: true, Symmetry: true, Rename: true,
		MaxStates: plan.MaxStates, StopAtFirst: plan.StopAtFirst, CexDir: cexDir, Tag: x.Tag}
	run := plan.Explore
	if run == nil {
		run = func(ctx context.Context, j Job) (CheckReport, error) { return j.Run(ctx, nil) }
	}
	cr, err := run(ctx, job)
	if err != nil {
		return CheckSummary{}, cr, err
	}
	sum := CheckSummary{Name: check.Name, States: cr.States, Seconds: cr.Seconds, Violated: []string{}}
	for _, r := range cr.Properties {
		merge(r, check.Name)
		if r.Verdict == VerdictViolated {
			sum.Violated = append(sum.Violated, r.ID)
		}
	}
	return sum, cr, nil
}

func runSimulation(check Check, merge func(Property, string)) (CheckSummary, error) {
	cfg := *check.Sim
	sr, err := sim.Run(cfg, sim.RunOptions{})
	if err != nil {
		return CheckSummary{}, fmt.Errorf("%s: %w", check.Name, err)
	}
	sum := CheckSummary{Name: check.Name, Handshakes: sr.Handshakes, Seconds: sr.WallSeconds, Violated: []string{}}
	seen := map[string]bool{}
	for _, v := range sr.Violations {
		seen[v.Property] = true
		sum.Violated = append(sum.Violated, v.Property)
		merge(Property{ID: v.Property, Verdict: VerdictViolated, Reason: v.Reason,
			Counterexample: &Counterexample{Steps: int(v.Step), Property: v.Property, Replay: sr.Replay}}, check.Name)
	}
	if len(sr.Violations) > 0 {
		// The run stopped at its first violation: what it would have
		// seen after it is unknown, so it is evidence for nothing else.
		return sum, nil
	}
	// A simulation that ran to its end covers the properties its
	// monitors watch.
	covered := []string{protocol.AuthC, protocol.AuthS, protocol.Cmd, protocol.Bounded}
	if cfg.Adversary == sim.NoneAdversary {
		covered = append(covered, protocol.Live)
	}
	if cfg.Adversary == "forge" {
		covered = append(covered, protocol.Forge)
	}
	if sr.DeliverChecked {
		covered = append(covered, protocol.Deliver)
	}
	for _, id := range covered {
		if !seen[id] {
			merge(Property{ID: id, Verdict: VerdictHolds}, check.Name)
		}
	}
	return sum, nil
}
