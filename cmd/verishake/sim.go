package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/sim"
)

func init() {
	register(command{
		name: "sim",
		usage: "[--profile P] [--variant V] [--clients N] [--handshakes N] [--loss F] [--push-loss F] [--dup F]\n" +
			"                     [--delay MIN..MAX] [--corrupt F] [--adversary none|replay|forge|impersonate|flood|all]\n" +
			"                     [--rate F] [--commands N] [--horizon D] [--seed S] [--trace FILE] [--plot FILE.svg] [--coverage] [--json]",
		summary: "simulate many clients and one server over a lossy push platform, checking the properties online",
		run:     runSim,
	})
}

// simFlags are the raw flag values, checked by config.
type simFlags struct {
	profile, variant, delay, adversary, trace, plot string
	clients, handshakes, commands                   int
	loss, pushLoss, dup, corrupt, rate              float64
	seed                                            uint64
	horizon                                         time.Duration
	json, coverage                                  bool
	pushLossSet                                     bool
}

func runSim(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("sim", stderr)
	d := sim.DefaultConfig()
	var f simFlags
	fs.StringVar(&f.profile, "profile", d.Profile.Name, "profile `P`: patent or hardened")
	fs.StringVar(&f.variant, "variant", "", "variant `V` of the profile: none|"+strings.Join(sim.VariantNames(), "|"))
	fs.IntVar(&f.clients, "clients", d.Clients, "`N` honest clients (RegIDs 1..N)")
	fs.IntVar(&f.handshakes, "handshakes", d.Handshakes, "`N` handshakes to run in all, across clients")
	fs.Float64Var(&f.loss, "loss", 0, "loss probability `F` on both channels")
	fs.Float64Var(&f.pushLoss, "push-loss", 0, "loss probability `F` on the push channel (default: --loss)")
	fs.Float64Var(&f.dup, "dup", 0, "duplication probability `F` on both channels")
	fs.StringVar(&f.delay, "delay", d.Push.DelayMin.String()+".."+d.Push.DelayMax.String(), "delay range `MIN..MAX` of Go durations, uniform, on both channels")
	fs.Float64Var(&f.corrupt, "corrupt", 0, "probability `F` that a message's frame gets a byte flipped")
	fs.StringVar(&f.adversary, "adversary", sim.NoneAdversary, "adversary `strategy`: "+strings.Join(sim.AdversaryNames(), "|"))
	fs.Float64Var(&f.rate, "rate", d.Rate, "handshakes `F` each client starts per virtual second (Poisson arrivals)")
	fs.IntVar(&f.commands, "commands", d.Commands, "`N` commands the server issues per verified handshake")
	fs.DurationVar(&f.horizon, "horizon", 0, "stop at virtual time `D` (default: derived from the run)")
	fs.Uint64Var(&f.seed, "seed", d.Seed, "seed `S` of the run: same seed, same output")
	fs.StringVar(&f.trace, "trace", "", "write the run's JSON Lines trace to `FILE`")
	fs.StringVar(&f.plot, "plot", "", "write an SVG histogram of verified handshakes' latency to `FILE.svg`")
	fs.BoolVar(&f.json, "json", false, "print one JSON object")
	fs.BoolVar(&f.coverage, "coverage", false, "also report the machines' table rows the run took and never took")
	if status, ok := parseFlags(fs, args, 0, stderr); !ok {
		return status
	}
	fs.Visit(func(fl *flag.Flag) {
		if fl.Name == "push-loss" {
			f.pushLossSet = true
		}
	})
	cfg, err := f.config()
	if err != nil {
		return usagef(stderr, "sim", "%v", err)
	}

	opts := sim.RunOptions{}
	var traceFile *os.File
	if f.trace != "" {
		traceFile, err = os.Create(f.trace)
		if err != nil {
			return usagef(stderr, "sim", "--trace: %v", err)
		}
		defer traceFile.Close()
		opts.Trace = traceFile
	}
	var plotFile *os.File
	if f.plot != "" {
		plotFile, err = os.Create(f.plot)
		if err != nil {
			return usagef(stderr, "sim", "--plot: %v", err)
		}
		defer plotFile.Close()
	}
	var cov *coverageWriter
	if f.coverage {
		cov = newCoverageWriter()
		opts.Trace = teeTrace(opts.Trace, cov)
	}
	bar := newProgress(stderr, "handshakes")
	opts.Progress = bar.update
	// Ctrl-C ends the run with the report so far.
	ctx, stop := interruptContext()
	defer stop()
	opts.Stop = ctx.Done()

	r, err := sim.NewRunner(cfg, opts)
	if err != nil {
		return usagef(stderr, "sim", "%v", err)
	}
	rep, err := r.Run()
	bar.done()
	if err != nil {
		fmt.Fprintf(stderr, "verishake sim: %v\n", err)
		return exitUsage
	}
	if traceFile != nil {
		if err := traceFile.Close(); err != nil {
			fmt.Fprintf(stderr, "verishake sim: --trace: %v\n", err)
			return exitUsage
		}
	}
	if plotFile != nil {
		err := sim.PlotLatency(plotFile, cfg, rep)
		if cerr := plotFile.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			fmt.Fprintf(stderr, "verishake sim: --plot: %v\n", err)
			return exitUsage
		}
	}
	if len(rep.Violations) > 0 {
		if f.trace != "" {
			rep.Replay = "verishake replay " + f.trace
		}
		// The trace leading to the violation: the run again, up to it.
		if tail, err := sim.Tail(cfg, rep.Violations[0].Step, 12); err == nil {
			rep.TraceTail = tail
		}
	}

	var covRep *simCoverage
	if cov != nil {
		covRep = cov.report()
	}
	if rep.Stopped == "interrupted" {
		fmt.Fprintln(stderr, "verishake sim: interrupted: the report covers the run so far; what it did not see violated is unknown")
	}
	if f.json {
		b, err := json.Marshal(simReportJSON{rep, simVerdicts(rep, f.trace), covRep})
		if err != nil {
			fmt.Fprintf(stderr, "verishake sim: %v\n", err)
			return exitUsage
		}
		fmt.Fprintf(stdout, "%s\n", b)
	} else {
		printReport(stdout, cfg, rep)
		if covRep != nil {
			printSimCoverage(stdout, covRep)
		}
	}
	if len(rep.Violations) > 0 {
		if f.json {
			// stdout holds exactly one JSON object; the reminder goes to stderr.
			v := rep.Violations[0]
			fmt.Fprintf(stderr, "verishake sim: %s violated at step %d, seed %d; reproduce: %s\n", v.Property, v.Step, rep.Seed, rep.Replay)
		}
		return exitViolation
	}
	if rep.Stopped == "interrupted" {
		return exitUnknown
	}
	return exitOK
}

// config checks the flags and builds the run's configuration. Each error
// names its flag.
func (f *simFlags) config() (sim.Config, error) {
	cfg := sim.DefaultConfig()
	p, err := protocol.ProfileByName(f.profile)
	if err != nil {
		return cfg, fmt.Errorf("--profile: %w", err)
	}
	if p, err = sim.ApplyVariant(p, f.variant); err != nil {
		return cfg, fmt.Errorf("--variant: %w", err)
	}
	cfg.Profile, cfg.Variant, cfg.Seed = p, f.variant, f.seed
	if f.clients < 1 {
		return cfg, fmt.Errorf("--clients %d: want at least 1", f.clients)
	}
	if f.handshakes < 0 {
		return cfg, fmt.Errorf("--handshakes %d: must not be negative", f.handshakes)
	}
	if f.commands < 0 {
		return cfg, fmt.Errorf("--commands %d: must not be negative", f.commands)
	}
	if !(f.rate > 0) || math.IsInf(f.rate, 0) {
		return cfg, fmt.Errorf("--rate %v: want a positive rate", f.rate)
	}
	if f.horizon < 0 {
		return cfg, fmt.Errorf("--horizon %v: must not be negative", f.horizon)
	}
	for _, pr := range []struct {
		name string
		v    float64
	}{{"loss", f.loss}, {"push-loss", f.pushLoss}, {"dup", f.dup}, {"corrupt", f.corrupt}} {
		if !(pr.v >= 0 && pr.v <= 1) {
			return cfg, fmt.Errorf("--%s %v: want a probability in [0, 1]", pr.name, pr.v)
		}
	}
	lo, hi, err := parseDelay(f.delay)
	if err != nil {
		return cfg, fmt.Errorf("--delay %q: %w", f.delay, err)
	}
	if _, err := sim.NewAdversary(f.adversary, sim.AdversaryParams{Profile: p, Clients: f.clients, Insider: protocol.RegID(f.clients + 1)}); err != nil {
		return cfg, fmt.Errorf("--adversary: %w", err)
	}
	cfg.Clients, cfg.Handshakes, cfg.Commands, cfg.Rate, cfg.Horizon = f.clients, f.handshakes, f.commands, f.rate, f.horizon
	cfg.Adversary = f.adversary
	ch := sim.Channel{Loss: f.loss, Dup: f.dup, Corrupt: f.corrupt, DelayMin: lo, DelayMax: hi}
	cfg.Upstream, cfg.Push = ch, ch
	if f.pushLossSet {
		cfg.Push.Loss = f.pushLoss
	}
	return cfg, cfg.Validate()
}

// parseDelay parses MIN..MAX (Go durations; a single duration D means
// D..D).
func parseDelay(s string) (lo, hi time.Duration, err error) {
	a, b, ok := strings.Cut(s, "..")
	if !ok {
		b = a
	}
	if lo, err = time.ParseDuration(a); err == nil {
		hi, err = time.ParseDuration(b)
	}
	switch {
	case err != nil:
		return 0, 0, errors.New("want MIN..MAX of Go durations, e.g. 10ms..200ms")
	case lo < 0 || hi < lo:
		return 0, 0, errors.New("want 0 ≤ MIN ≤ MAX")
	}
	return lo, hi, nil
}

func printReport(w io.Writer, cfg sim.Config, rep *sim.Report) {
	pct := func(n uint64) float64 {
		if rep.Handshakes == 0 {
			return 0
		}
		return 100 * float64(n) / float64(rep.Handshakes)
	}
	fmt.Fprintf(w, "verishake sim: profile %s, %d clients, adversary %s, seed %d\n", displayName(rep.Profile, rep.Variant), rep.Clients, rep.Adversary, rep.Seed)
	fmt.Fprintf(w, "  upstream loss %g dup %g corrupt %g delay %v..%v; push loss %g dup %g corrupt %g delay %v..%v\n",
		cfg.Upstream.Loss, cfg.Upstream.Dup, cfg.Upstream.Corrupt, cfg.Upstream.DelayMin, cfg.Upstream.DelayMax,
		cfg.Push.Loss, cfg.Push.Dup, cfg.Push.Corrupt, cfg.Push.DelayMin, cfg.Push.DelayMax)
	fmt.Fprintf(w, "handshakes %d: verified %d (%.3f%%), failed %d, half-verified %d, unfinished %d\n",
		rep.Handshakes, rep.Verified, pct(rep.Verified), rep.Failed, rep.HalfVerified, rep.Unfinished)
	fmt.Fprintf(w, "per handshake: %.3f messages, %.3f retransmissions\n", rep.MessagesPerHandshake, rep.RetransmissionsPerHandshake)
	fmt.Fprintf(w, "latency of verified handshakes (virtual, ms): p50 %.3f  p90 %.3f  p99 %.3f  max %.3f\n",
		rep.LatencyP50, rep.LatencyP90, rep.LatencyP99, rep.LatencyMax)
	s := rep.StepCounts
	fmt.Fprintf(w, "steps %d: deliver %d, drop %d, dup %d, corrupt %d, client_timer %d, server_timer %d, start %d, issue %d, inject %d\n",
		rep.Steps, s.Deliver, s.Drop, s.Dup, s.Corrupt, s.ClientTimer, s.ServerTimer, s.Start, s.Issue, s.Inject)
	fmt.Fprintf(w, "rejected %d, lost %d, commands issued %d, executed %d, max half-open %d, virtual time %.3fs, stopped: %s\n",
		rep.Rejected, rep.Lost, rep.CommandsIssued, rep.CommandsExecuted, rep.MaxHalfOpen, rep.VirtualSeconds, rep.Stopped)
	fmt.Fprintf(w, "forge: %d guessed tokens delivered, %d accepted\n", rep.ForgeGuesses, rep.ForgeAccepted)
	fmt.Fprintf(w, "wall %.3fs: %.0f handshakes/s, %.0f steps/s\n", rep.WallSeconds, rep.HandshakesPerSec, rep.StepsPerSec)
	if rep.DeliverChecked {
		fmt.Fprintf(w, "deliver: no message lost, no adversary; %d commands reached a client that had left their session\n", rep.CommandsLeft)
	}
	if len(rep.Violations) == 0 && rep.Stopped == "interrupted" {
		fmt.Fprintf(w, "properties: none violated so far; interrupted, so every verdict is unknown\n")
		return
	}
	if len(rep.Violations) == 0 {
		held := "AUTH-C, AUTH-S, CMD, FORGE, LIVE, BOUNDED"
		if rep.DeliverChecked {
			held += ", DELIVER"
		}
		fmt.Fprintf(w, "properties: %s hold\n", held)
		return
	}
	for _, v := range rep.Violations {
		fmt.Fprintf(w, "VIOLATED %s at step %d (t=%v): %s\n", v.Property, v.Step, time.Duration(v.T), v.Reason)
		if v.Claim != nil {
			fmt.Fprintf(w, "  claim: %s(%s) RegID %d Tc=%s Ts=%s Seq=%d\n", v.Claim.Kind, v.Claim.Role, v.Claim.RegID, v.Claim.Tc, v.Claim.Ts, v.Claim.Seq)
		}
	}
	fmt.Fprintf(w, "seed: %d\n", rep.Seed)
	fmt.Fprintf(w, "reproduce: %s\n", rep.Replay)
	if len(rep.TraceTail) > 0 {
		fmt.Fprintf(w, "last steps before the violation:\n")
		for _, l := range rep.TraceTail {
			var b bytes.Buffer
			_ = json.Compact(&b, l)
			fmt.Fprintf(w, "  %s\n", b.Bytes())
		}
	}
}

// progress is a progress bar on stderr, shown only when stderr is a
// terminal and the run has lasted a second.
type progress struct {
	w     io.Writer
	what  string
	tty   bool
	start time.Time
	bar   *progressbar.ProgressBar
}

// newProgress counts what (e.g. "handshakes"); a total of -1 in update
// means the end is unknown, and the bar just counts.
func newProgress(stderr io.Writer, what string) *progress {
	p := &progress{w: stderr, what: what, start: time.Now()}
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.tty = true
	}
	return p
}

func (p *progress) update(started, total int) {
	if !p.tty || total == 0 {
		return
	}
	if p.bar == nil {
		if time.Since(p.start) < time.Second {
			return
		}
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription(p.what),
			progressbar.OptionShowCount(),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish())
	}
	_ = p.bar.Set(started)
}

func (p *progress) done() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
