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
	"github.com/verishake/verishake/internal/verifier"
	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/sim/explore"
)

func init() {
	register(command{
		name: "check",
		usage: "[--profile P] [--variant V] [--clients N] [--sessions K] [--losses L] [--dups D] [--injects I]\n" +
			"       [--retries R] [--retransmits G] [--commands C] [--adversary CAPS] [--agree=false] [--symmetry=false] [--rename-tokens=false] [--workers W] [--max-states N] [--cex DIR] [--json] [--junit FILE] [--plot FILE.svg]\n" +
			"       [--memory SIZE] [--work DIR] [--checkpoint DIR | --resume DIR] [--compact[=hash|bitstate] [--compact-size SIZE]]\n" +
			"       [--coverage [--coverage-walks N]] [--dump FILE.dot|FILE.json [--dump-max N]]",
		summary: "explore every interleaving within bounds; shortest counterexample per violated property",
		run:     runCheck,
	})
}

// The check reports and their parts are package verifier's, which verify,
// repair and package verishaketest share.
type (
	bounds         = verifier.Bounds
	propertyResult = verifier.Property
	counterexample = verifier.Counterexample
)

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
	memory    int64  // the search's memory budget in bytes (0: none)
	workDir   string // where levels go to disk ("": they stay in memory)
	// checkpoint is where the search checkpoints each level ("": none),
	// resuming the one there when resume is set.
	checkpoint string
	resume     bool
	compact    engine.Compaction // lossy visited set (check_compact.go)
	compactSz  int64             // its table's size (0: the default)
}

// checkReport is `check --json`: the exploration's report, and
// --coverage's.
type checkReport struct {
	verifier.CheckReport
	// PeakRSS is the process's peak resident memory (bytes; absent where
	// the OS does not say), everything included: visited set, frontier,
	// parents, the runtime. PeakRSSPerState is it over the states stored,
	// where BytesPerState counts the visited set alone.
	PeakRSS         int64   `json:"peak_rss,omitempty"`
	PeakRSSPerState float64 `json:"peak_rss_bytes_per_state,omitempty"`
	// Coverage is --coverage's report.
	Coverage *coverageReport `json:"coverage,omitempty"`
}

// run runs the job as verify runs its explorations (verifier.Job.Run),
// writing each counterexample as a trace under the job's directory.
func (j checkJob) run(ctx context.Context, progress func(explore.Progress)) (checkReport, error) {
	job := verifier.Job{Profile: j.profile, Variant: j.variant, Bounds: j.b, Caps: j.caps, Agree: j.agree, Symmetry: j.symmetry, Rename: j.rename,
		Workers: j.workers, MaxStates: j.maxStates, StopOn: j.stopOn, CexDir: j.cexDir,
		Memory: searchBudget(j.memory), WorkDir: j.workDir, Checkpoint: j.checkpoint, Resume: j.resume, Identity: j.identity().String(),
		Compact: j.compact, CompactSize: j.compactSz}
	rep, err := job.Run(ctx, progress)
	rep.MemoryBudget = j.memory // the search had its share of it (searchBudget)
	return checkReport{CheckReport: rep}, err
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
	fs.IntVar(&b.Retransmits, "retransmits", d.Retransmits, "`G` client retransmissions along a path, all clients together (0: only --retries bounds them)")
	fs.IntVar(&b.Commands, "commands", d.Commands, "`C` commands the server issues per verified session")
	return &b
}

// validateBounds names the flag of a bound out of range.
func validateBounds(b bounds) error {
	for _, f := range []struct {
		name string
		v    int
		min  int
	}{{"clients", b.Clients, 1}, {"sessions", b.Sessions, 1}, {"losses", b.Losses, 0}, {"dups", b.Dups, 0},
		{"injects", b.Injects, 0}, {"retries", b.Retries, 0}, {"retransmits", b.Retransmits, 0}, {"commands", b.Commands, 0}} {
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
var resolveProfile = verifier.ResolveProfile

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
	if err := validateBounds(*b); err != nil {
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
	stopLines := func() {}
	if !bar.tty {
		lines = newProgressLog(stderr, time.Now, progressEvery)
		stopLines = lines.run(time.Second)
		defer stopLines()
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
	stopLines() // the search's lines end with it; --coverage's walks are not the search
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
	verdictHolds    = verifier.VerdictHolds
	verdictViolated = verifier.VerdictViolated
	verdictUnknown  = verifier.VerdictUnknown // a search cut short, or nothing that covers it
)

// checkStatus is 0 when every property holds, 1 when one is violated, and
// 3 when none is violated but some are unknown: an incomplete search is
// never a pass.
func checkStatus(props []propertyResult) int { return verifier.Status(props) }

func printCheck(w io.Writer, r checkReport) {
	name := displayName(r.Profile, r.Variant)
	b := r.Bounds
	fmt.Fprintf(w, "check %s: %v, adversary %s\n", name, b, r.Adversary)
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
