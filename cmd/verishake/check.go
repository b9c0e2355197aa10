package main

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/verishake/verishake/adversary"
	"github.com/verishake/verishake/engine"
	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/sim"
	"github.com/verishake/verishake/sim/explore"
	"github.com/verishake/verishake/trace"
)

func init() {
	register(command{
		name: "check",
		usage: "[--profile P] [--variant V] [--clients N] [--sessions K] [--losses L] [--dups D] [--injects I]\n" +
			"       [--retries R] [--commands C] [--adversary CAPS] [--agree=false] [--symmetry=false] [--rename-tokens=false] [--workers W] [--max-states N] [--cex DIR] [--json] [--junit FILE] [--plot FILE.svg]\n" +
			"       [--memory SIZE] [--work DIR] [--checkpoint DIR | --resume DIR] [--compact[=hash|bitstate] [--compact-size SIZE]]\n" +
			"       [--coverage [--coverage-walks N]] [--dump FILE.dot|FILE.json [--dump-max N]]",
		summary: "explore every interleaving within bounds; shortest counterexample per violated property",
		run:     runCheck,
	})
}

// bounds are the explorer's budgets, as the check flags set them.
type bounds struct {
	Clients  int `json:"clients"`
	Sessions int `json:"sessions"`
	Losses   int `json:"losses"`
	Dups     int `json:"dups"`
	Injects  int `json:"injects"`
	Retries  int `json:"retries"`
	Commands int `json:"commands"`
}

// defaultBounds is what `check` explores without flags: one honest client
// and the adversary's own RegID, one handshake, one loss, one duplicate,
// one injection, one retransmission, one command.
var defaultBounds = bounds{Clients: 1, Sessions: 1, Losses: 1, Dups: 1, Injects: 1, Retries: 1, Commands: 1}

// checkJob is one exploration: a profile, its bounds and threat model.
type checkJob struct {
	profile   protocol.Profile
	variant   string
	b         bounds
	caps      adversary.Capabilities
	agree     bool
	symmetry  bool
	rename    bool
	workers   int
	maxStates int
	stopOn    []string
	cexDir    string
	tag       string // names this run in counterexample file names
	memory    int64  // the search's memory budget in bytes (0: none)
	workDir   string // where levels go to disk ("": they stay in memory)
	// checkpoint is where the search checkpoints each level ("": none),
	// resuming the one there when resume is set.
	checkpoint string
	resume     bool
	compact    engine.Compaction // lossy visited set (check_compact.go)
	compactSz  int64             // its table's size (0: the default)
}

// propertyResult is one property's verdict in a report.
type propertyResult struct {
	ID string `json:"id"`
	// Holds is true when the property holds, false when it is violated,
	// and null when it is unknown (a search cut short): never a pass.
	Holds   *bool  `json:"holds"`
	Verdict string `json:"verdict"` // holds, violated or unknown (incomplete search)
	Reason  string `json:"reason,omitempty"`
	// Counterexample is what reproduces a violation: the shortest
	// counterexample's trace for `verishake replay`, or the command that
	// finds it again.
	Counterexample *counterexample `json:"counterexample,omitempty"`
	// By names the check that decided: "explore" or a simulation.
	By string `json:"by,omitempty"`
	// cut: some check that covers the property could not finish (verify
	// keeps it unknown whatever other checks found).
	cut bool
}

func ptr[T any](v T) *T { return &v }

// checkReport is `check --json`.
type checkReport struct {
	Profile       string  `json:"profile"`
	Variant       string  `json:"variant"`
	Bounds        bounds  `json:"bounds"`
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
	MemoryBudget int64            `json:"memory_budget,omitempty"`
	Memory       int64            `json:"memory,omitempty"`
	WorkDir      string           `json:"work_dir,omitempty"`
	Disk         int64            `json:"disk,omitempty"`
	Properties   []propertyResult `json:"properties"`
	// Compact is a lossy search's compaction and what it may have omitted.
	Compact *compactReport `json:"compact,omitempty"`
	// PeakRSS is the process's peak resident memory (bytes; absent where
	// the OS does not say), everything included: visited set, frontier,
	// parents, the runtime. PeakRSSPerState is it over the states stored,
	// where BytesPerState counts the visited set alone.
	PeakRSS         int64   `json:"peak_rss,omitempty"`
	PeakRSSPerState float64 `json:"peak_rss_bytes_per_state,omitempty"`
	// Coverage is --coverage's report.
	Coverage *coverageReport `json:"coverage,omitempty"`
}

// explored runs the job and turns the report into verdicts, writing each
// counterexample as a trace under the job's directory.
func (j checkJob) run(ctx context.Context, progress func(explore.Progress)) (checkReport, error) {
	p := j.profile
	p.Retries = min(p.Retries, j.b.Retries)
	h, err := p.Compile()
	if err != nil {
		return checkReport{}, err
	}
	// With no injections the adversary can still be the insider, running
	// its own handshake, which costs none.
	var adv sim.Adversary
	if j.b.Injects > 0 && j.caps != (adversary.Capabilities{}) || j.caps.Insider {
		adv = adversary.NewExplorer(j.caps, j.b.Clients, protocol.RegID(j.b.Clients+1))
	}
	rep, compacted, err := exploreCompacted(ctx, j.compact, j.compactSz, explore.Config{
		Handshake: h, Clients: j.b.Clients, Sessions: j.b.Sessions, Commands: j.b.Commands,
		Losses: j.b.Losses, Dups: j.b.Dups, Injects: j.b.Injects, Adversary: adv,
		Agree: j.agree, Symmetry: j.symmetry, RenameTokens: j.rename, Workers: j.workers, MaxStates: j.maxStates, StopOn: j.stopOn, Progress: progress,
		WorkDir: j.workDir, MemoryBudget: searchBudget(j.memory), Checkpoint: j.checkpoint, Resume: j.resume, Identity: j.identity().String(),
	})
	if err != nil {
		return checkReport{}, err
	}
	out := checkReport{
		Profile: j.profile.Name, Variant: j.variant, Bounds: j.b, Adversary: j.caps.String(),
		States: rep.States, Transitions: rep.Transitions, Depth: rep.Depth, Complete: rep.Complete,
		Seconds: rep.Elapsed.Seconds(), StatesPerSec: rep.StatesPerSec(), BytesPerState: rep.BytesPerState,
		Symmetry: rep.Symmetry, RenameTokens: rep.RenameTokens, Stopped: rep.Stopped,
		MemoryBudget: j.memory, WorkDir: cmp.Or(j.checkpoint, j.workDir), Compact: compacted,
	}
	if j.memory > 0 {
		out.Memory = rep.Memory
	}
	if out.WorkDir != "" {
		out.Disk = rep.Disk
	}
	switch {
	case adv == nil:
		out.Adversary = "none"
	case j.b.Injects == 0:
		out.Adversary = "insider (its own handshake only)"
	}
	for _, id := range explore.Properties {
		if id == protocol.Agree && !j.agree {
			continue
		}
		r := propertyResult{ID: id, By: "explore"}
		r.set(verdictUnknown)
		if c, bad := rep.Violated(id); bad {
			r.set(verdictViolated)
			r.Reason = c.Reason
			path, err := j.writeCounterexample(p, c)
			if err != nil {
				return out, err
			}
			if path != "" { // none without a --cex directory
				r.Counterexample = &counterexample{File: path, Steps: len(c.Steps), Property: id, Replay: "verishake replay " + shellQuote(path)}
			}
		} else if rep.Complete {
			r.set(verdictHolds)
		}
		out.Properties = append(out.Properties, r)
	}
	if compacted != nil {
		markLossy(out.Properties)
	}
	return out, nil
}

// writeCounterexample writes steps as a trace `verishake replay` re-runs.
func (j checkJob) writeCounterexample(p protocol.Profile, c explore.Counterexample) (string, error) {
	if j.cexDir == "" {
		return "", nil
	}
	if err := os.MkdirAll(j.cexDir, 0o755); err != nil {
		return "", fmt.Errorf("--cex: %w", err)
	}
	f, path, err := createCounterexample(j.cexDir, cexName(p.Name, j.configuration(), c.Property))
	if err != nil {
		return "", fmt.Errorf("--cex: %w", err)
	}
	cfg := sim.DefaultConfig()
	cfg.Profile, cfg.Variant, cfg.Seed = p, j.variant, 0
	cfg.Clients, cfg.Handshakes, cfg.Commands = j.b.Clients, j.b.Clients*j.b.Sessions, j.b.Commands
	if _, err := sim.TraceSteps(f, cfg, c.Steps, trace.Target{Property: c.Property, Continuation: c.Continuation}); err != nil {
		f.Close()
		return "", fmt.Errorf("counterexample %s: %w", path, err)
	}
	return path, f.Close()
}

// boundFlags registers the bound flags on fs, with defaults d.
func boundFlags(fs *flag.FlagSet, d bounds) *bounds {
	b := d
	fs.IntVar(&b.Clients, "clients", d.Clients, "`N` honest clients")
	fs.IntVar(&b.Sessions, "sessions", d.Sessions, "`K` handshakes each client may start")
	fs.IntVar(&b.Losses, "losses", d.Losses, "`L` messages the network may lose along a path")
	fs.IntVar(&b.Dups, "dups", d.Dups, "`D` messages the network may duplicate along a path")
	fs.IntVar(&b.Injects, "injects", d.Injects, "`I` messages the adversary may inject along a path")
	fs.IntVar(&b.Retries, "retries", d.Retries, "cap `R` on the profile's retransmissions while exploring")
	fs.IntVar(&b.Commands, "commands", d.Commands, "`C` commands the server issues per verified session")
	return &b
}

func (b bounds) validate() error {
	for _, f := range []struct {
		name string
		v    int
		min  int
	}{{"clients", b.Clients, 1}, {"sessions", b.Sessions, 1}, {"losses", b.Losses, 0}, {"dups", b.Dups, 0},
		{"injects", b.Injects, 0}, {"retries", b.Retries, 0}, {"commands", b.Commands, 0}} {
		if f.v < f.min {
			return fmt.Errorf("--%s %d: want at least %d", f.name, f.v, f.min)
		}
	}
	if b.Clients > 8 || b.Sessions > 8 {
		return fmt.Errorf("--clients %d --sessions %d: at most 8 each (the state space grows exponentially)", b.Clients, b.Sessions)
	}
	return nil
}

// resolveProfile returns the named profile with the named variant applied.
func resolveProfile(profile, variant string) (protocol.Profile, error) {
	p, err := protocol.ProfileByName(profile)
	if err != nil {
		return p, fmt.Errorf("--profile: %w", err)
	}
	if variant == "" {
		return p, nil
	}
	v, err := protocol.VariantByName(variant)
	if err != nil {
		return p, fmt.Errorf("--variant: %w", err)
	}
	return v.Of(p), nil
}

func runCheck(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("check", stderr)
	profile := fs.String("profile", "hardened", "profile `P`: patent or hardened")
	variant := fs.String("variant", "", "variant `V` of the profile to check (see verishake variants)")
	b := boundFlags(fs, defaultBounds)
	caps := fs.String("adversary", "default", "adversary capabilities `CAPS`: default, none, or a +-list of replay, impersonate, insider, forge, flood, read-upstream, read-push")
	agree := fs.Bool("agree", true, "check AGREE on every state (costs a fault-free continuation per state)")
	symmetry := fs.Bool("symmetry", true, "with 2 or more clients, keep one state per renaming of the clients (sound; see docs/performance.md)")
	rename := fs.Bool("rename-tokens", true, "keep one state per renaming of the symbolic tokens (sound; see docs/performance.md)")
	workers := fs.Int("workers", 0, "`W` parallel workers (0: one per CPU)")
	maxStates := fs.Int("max-states", 20_000_000, "stop, incomplete, after storing `N` states (0: no limit)")
	cex := fs.String("cex", defaultCexDir, cexUsage)
	asJSON := fs.Bool("json", false, "print one JSON object")
	withCov := fs.Bool("coverage", false, "also report the table rows and step kinds taken, and what random walks reach (walks the space a second time, on one core)")
	walks := fs.Int("coverage-walks", 1000, "`N` random walks --coverage compares with the exhaustive search")
	dump := fs.String("dump", "", "write the state graph to `FILE.dot` (Graphviz) or FILE.json; small bounds only")
	dumpMax := fs.Int("dump-max", 10_000, "--dump refuses bounds with more than `N` states")
	junit := fs.String("junit", "", "write JUnit XML, one test case per property, to `FILE`")
	plot := fs.String("plot", "", "write an SVG bar chart of the new states at each BFS level to `FILE.svg`")
	defaultMemory := defaultMemoryBudget()
	memory := fs.String("memory", formatSize(defaultMemory), "memory budget `SIZE`: the search stops, verdicts unknown, rather than hold more (0: none; default half the physical memory)")
	work := fs.String("work", "", "`DIR` for the levels and parent records kept on disk (default: a new one under the OS temp directory, removed after)")
	checkpoint := fs.String("checkpoint", "", "keep the levels in `DIR` and checkpoint the search there after each level, for --resume after a kill")
	resume := fs.String("resume", "", "continue the check checkpointed in `DIR` (give it the flags it was started with)")
	var compact compactFlag
	fs.Var(&compact, "compact", compactUsage)
	compactSize := fs.String("compact-size", "0", compactSizeUsage)
	if status, ok := parseFlags(fs, args, 0, stderr); !ok {
		return status
	}
	p, err := resolveProfile(*profile, *variant)
	if err != nil {
		return usagef(stderr, "check", "%v", err)
	}
	if *walks < 0 {
		return usagef(stderr, "check", "--coverage-walks %d: want 0 or more", *walks)
	}
	for _, out := range []struct{ flag, path string }{{"junit", *junit}, {"plot", *plot}} {
		if err := probeWritable(out.path); err != nil {
			return usagef(stderr, "check", "--%s: %v", out.flag, err)
		}
	}
	if err := b.validate(); err != nil {
		return usagef(stderr, "check", "%v", err)
	}
	c, err := adversary.ParseCapabilities(*caps)
	if err != nil {
		return usagef(stderr, "check", "--adversary: %v", err)
	}
	if *workers < 0 || *maxStates < 0 {
		return usagef(stderr, "check", "--workers and --max-states must not be negative")
	}
	budget, err := parseSize(*memory)
	if err != nil {
		return usagef(stderr, "check", "--memory %v", err)
	}
	if budget > 0 {
		// The collector keeps the Go heap within the budget even when it
		// falls behind the search (a loaded machine starves it of CPU).
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(budget))
	}
	job := checkJob{profile: p, variant: *variant, b: *b, caps: c, agree: *agree, symmetry: *symmetry, rename: *rename, workers: *workers, maxStates: *maxStates, cexDir: *cex,
		memory: budget, workDir: *work, compact: compact.c}
	if job.compactSz, err = parseSize(*compactSize); err != nil {
		return usagef(stderr, "check", "--compact-size %v", err)
	}
	if share := searchBudget(budget); share > 0 && job.compactSz > share {
		return usagef(stderr, "check", "--compact-size %s: more than the search's share of --memory %s (%s)", formatSize(job.compactSz), formatSize(budget), formatSize(share))
	}
	if compact.c.Lossy() && (*checkpoint != "" || *resume != "") {
		return usagef(stderr, "check", "--compact=%v with --checkpoint or --resume: a lossy search is not checkpointed", compact.c)
	}
	switch {
	case *checkpoint != "" && *resume != "" && *checkpoint != *resume:
		return usagef(stderr, "check", "--checkpoint %s --resume %s: a resume checkpoints where it resumes", *checkpoint, *resume)
	case *resume != "":
		info, err := job.matchCheckpoint(*resume)
		if err != nil {
			return usagef(stderr, "check", "--resume %s: %v", *resume, err)
		}
		fmt.Fprintf(stderr, "verishake check: resuming at level %d with %d states stored\n", info.Depth, info.States)
		job.checkpoint, job.resume = *resume, true
	case *checkpoint != "":
		job.checkpoint = *checkpoint
	}
	if job.checkpoint != "" {
		job.workDir = ""
	} else if job.workDir == "" {
		dir, err := os.MkdirTemp("", "verishake-work-")
		if err != nil {
			return usagef(stderr, "check", "--work: %v", err)
		}
		defer os.RemoveAll(dir)
		job.workDir = dir
	} else if fi, err := os.Stat(job.workDir); err == nil && !fi.IsDir() {
		return usagef(stderr, "check", "--work %s: not a directory", job.workDir)
	}
	if *dump != "" {
		if *dumpMax < 1 {
			return usagef(stderr, "check", "--dump-max %d: want at least 1", *dumpMax)
		}
		n, err := job.dump(context.Background(), *dump, *dumpMax)
		if err != nil {
			return usagef(stderr, "check", "%v", err)
		}
		fmt.Fprintf(stderr, "verishake check: --dump: %d states written to %s\n", n, *dump)
	}
	bar := newProgress(stderr, "states")
	var lines *progressLog
	if !bar.tty {
		lines = newProgressLog(stderr, time.Now, progressEvery)
		stop := lines.run(time.Second)
		defer stop()
	}
	// Ctrl-C ends the search (on disk, at a block's end); the report is
	// then incomplete, its unviolated properties unknown. With
	// --checkpoint, SIGTERM does too, and the last completed level's
	// checkpoint stays for --resume.
	ctx, stop := interruptContext()
	defer stop()
	if job.checkpoint != "" {
		var stopTerm context.CancelFunc
		ctx, stopTerm = signal.NotifyContext(ctx, syscall.SIGTERM)
		defer stopTerm()
	}
	var levels []uint64 // states stored after each BFS level
	lastDepth := -1
	rep, err := job.run(ctx, func(pr explore.Progress) {
		if pr.Depth != lastDepth {
			levels, lastDepth = append(levels, pr.States), pr.Depth
		} else {
			levels[len(levels)-1] = pr.States // a block of the same level, read from disk
		}
		bar.update(int(pr.States), -1)
		if lines != nil {
			lines.update(pr)
		}
	})
	bar.done()
	if err != nil {
		fmt.Fprintf(stderr, "verishake check: %v\n", err)
		return exitUsage
	}
	if rep.PeakRSS = peakRSS(); rep.PeakRSS > 0 {
		rep.PeakRSSPerState = float64(rep.PeakRSS) / float64(max(rep.States, 1))
	}
	if ctx.Err() != nil {
		rep.Interrupted = true
		fmt.Fprintln(stderr, "verishake check: interrupted: the report is partial, and what it did not find violated is unknown")
	}
	if *junit != "" {
		if err := writeJUnit(*junit, checkSuites(rep)); err != nil {
			fmt.Fprintf(stderr, "verishake check: --junit: %v\n", err)
			return exitUsage
		}
	}
	if *plot != "" {
		if err := writeFile(*plot, func(w io.Writer) error { return plotLevels(w, rep, levels) }); err != nil {
			fmt.Fprintf(stderr, "verishake check: --plot: %v\n", err)
			return exitUsage
		}
	}
	if job.checkpoint != "" && rep.Stopped != "" {
		fmt.Fprintf(stderr, "verishake check: stopped (%s); the checkpoint of the last completed level is in %s: continue with --resume %s and the same flags\n",
			rep.Stopped, job.checkpoint, job.checkpoint)
	}
	var cov *coverageReport
	if *withCov {
		if cov, err = job.coverage(ctx, *walks, 1); err != nil {
			fmt.Fprintf(stderr, "verishake check: %v\n", err)
			return exitUsage
		}
	}
	if *asJSON {
		rep.Coverage = cov
		out, _ := json.Marshal(rep)
		fmt.Fprintln(stdout, string(out))
	} else {
		printCheck(stdout, rep)
		if cov != nil {
			printCoverage(stdout, cov)
		}
	}
	return checkStatus(rep.Properties)
}

// The three verdicts a property can get.
const (
	verdictHolds    = "holds"
	verdictViolated = "violated"
	verdictUnknown  = "unknown" // a search cut short, or nothing that covers it
)

// set gives r verdict v, and Holds with it.
func (r *propertyResult) set(v string) {
	r.Verdict = v
	switch v {
	case verdictHolds, verdictViolated:
		holds := v == verdictHolds
		r.Holds = &holds
	default:
		r.Holds = nil
	}
}

// holds reports whether r's verdict is holds.
func (r *propertyResult) holds() bool { return r.Holds != nil && *r.Holds }

// checkStatus is 0 when every property holds, 1 when one is violated, and
// 3 when none is violated but some are unknown: an incomplete search is
// never a pass.
func checkStatus(props []propertyResult) int {
	status := exitOK
	for _, p := range props {
		switch p.Verdict {
		case verdictViolated:
			return exitViolation
		case verdictUnknown:
			status = exitUnknown
		}
	}
	return status
}

func printCheck(w io.Writer, r checkReport) {
	name := displayName(r.Profile, r.Variant)
	b := r.Bounds
	fmt.Fprintf(w, "check %s: %d client(s) × %d session(s), losses %d, dups %d, injects %d, retries ≤ %d, commands %d, adversary %s\n",
		name, b.Clients, b.Sessions, b.Losses, b.Dups, b.Injects, b.Retries, b.Commands, r.Adversary)
	state := "complete"
	if !r.Complete {
		state = "INCOMPLETE: the search was cut short; what it did not find broken is unknown"
		if r.Stopped != "" {
			state = "INCOMPLETE (" + r.Stopped + "): the search was cut short; what it did not find broken is unknown"
		}
	}
	switch {
	case r.Symmetry && r.RenameTokens:
		state += "; one state per renaming of clients and tokens"
	case r.Symmetry:
		state += "; one state per renaming of clients"
	case r.RenameTokens:
		state += "; one state per renaming of tokens"
	}
	fmt.Fprintf(w, "%d states, %d transitions, depth %d, %.2fs (%.0f states/s, %.1f bytes/state), %s\n",
		r.States, r.Transitions, r.Depth, r.Seconds, r.StatesPerSec, r.BytesPerState, state)
	if r.MemoryBudget > 0 || r.WorkDir != "" {
		budget := "none"
		if r.MemoryBudget > 0 {
			budget = formatSize(r.MemoryBudget)
		}
		fmt.Fprintf(w, "memory budget %s (at most %s held), work directory %s (at most %s on disk)\n",
			budget, formatSize(r.Memory), cmp.Or(r.WorkDir, "none"), formatSize(r.Disk))
	}
	if r.PeakRSS > 0 {
		fmt.Fprintf(w, "peak RSS %s, %.1f bytes per state stored (the process: visited set, frontier, parents, runtime)\n",
			formatSize(r.PeakRSS), r.PeakRSSPerState)
	}
	printCompact(w, r.Compact)
	printProperties(w, r.Properties)
}

func printProperties(w io.Writer, props []propertyResult) {
	for _, p := range props {
		fmt.Fprintf(w, "  %-8s %s", p.ID, p.Verdict)
		if p.By != "" && p.By != "explore" {
			fmt.Fprintf(w, " (%s)", p.By)
		}
		if p.Reason != "" {
			fmt.Fprintf(w, ": %s", p.Reason)
		}
		switch c := p.Counterexample; {
		case c == nil || c.Replay == "":
		case c.File == "":
			fmt.Fprintf(w, "\n           reproduce: %s", c.Replay)
		default:
			unit := "steps"
			if c.Steps == 1 {
				unit = "step"
			}
			fmt.Fprintf(w, "\n           %d %s; replay: %s", c.Steps, unit, c.Replay)
		}
		fmt.Fprintln(w)
	}
}
