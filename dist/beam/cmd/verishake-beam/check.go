package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/verishake/verishake/adversary"
	"github.com/verishake/verishake/dist/beam/bfs"
	"github.com/verishake/verishake/dist/beam/models"
	"github.com/verishake/verishake/internal/verifier"
	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/sim"
	"github.com/verishake/verishake/sim/explore"
)

const checkUsage = `Usage: verishake-beam check [--profile P] [--variant V] [--clients N] [--sessions K] [--losses L] [--dups D]
       [--injects I] [--retries R] [--retransmits G] [--commands C] [--adversary CAPS] [--agree=false] [--symmetry=false]
       [--rename-tokens=false] [--max-states N] [--cex DIR] [--json]
       [--runner prism|universal|dataflow] [--endpoint HOST:PORT] [--work PATH] [--partitions N] [-- BEAM OPTIONS]

verishake check's exhaustive search, each breadth-first level a Beam pipeline: the same
report, JSON and exit statuses. Options after -- are Beam's own (--environment_type, ...).

Flags:
`

// checkFlags are the command's flags, parsed.
type checkFlags struct {
	job              models.Handshake
	maxStates        int
	cex              string
	json             bool
	runner, endpoint string
	work             string
	partitions       int
	beamArgs         []string
	profile          protocol.Profile
	caps             adversary.Capabilities
}

func parseCheck(args []string, stderr io.Writer) (checkFlags, int, bool) {
	c := checkFlags{job: models.Handshake{Bounds: models.DefaultBounds}}
	if i := slices.Index(args, "--"); i >= 0 {
		args, c.beamArgs = args[:i], args[i+1:]
	}
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.job.Profile, "profile", "hardened", "profile `P`: patent or hardened")
	fs.StringVar(&c.job.Variant, "variant", "", "variant `V` of the profile to check (see verishake variants)")
	b := &c.job.Bounds
	fs.IntVar(&b.Clients, "clients", b.Clients, "`N` honest clients")
	fs.IntVar(&b.Sessions, "sessions", b.Sessions, "`K` handshakes each client may start")
	fs.IntVar(&b.Losses, "losses", b.Losses, "`L` messages the network may lose along a path")
	fs.IntVar(&b.Dups, "dups", b.Dups, "`D` messages the network may duplicate along a path")
	fs.IntVar(&b.Injects, "injects", b.Injects, "`I` messages the adversary may inject along a path")
	fs.IntVar(&b.Retries, "retries", b.Retries, "cap `R` on the profile's retransmissions while exploring")
	fs.IntVar(&b.Retransmits, "retransmits", b.Retransmits, "`G` client retransmissions along a path, all clients together (0: only --retries bounds them)")
	fs.IntVar(&b.Commands, "commands", b.Commands, "`C` commands the server issues per verified session")
	fs.StringVar(&c.job.Adversary, "adversary", "default", "adversary capabilities `CAPS`: default, none, or a +-list of replay, impersonate, insider, forge, flood, read-upstream, read-push")
	fs.BoolVar(&c.job.Agree, "agree", true, "check AGREE on every state (costs a fault-free continuation per state)")
	fs.BoolVar(&c.job.Symmetry, "symmetry", true, "with 2 or more clients, keep one state per renaming of the clients")
	fs.BoolVar(&c.job.RenameTokens, "rename-tokens", true, "keep one state per renaming of the symbolic tokens")
	fs.IntVar(&c.maxStates, "max-states", 20_000_000, "stop, incomplete, after storing `N` states (0: no limit)")
	fs.StringVar(&c.cex, "cex", "verishake-cex", "write counterexample traces to `DIR` (an existing file is never overwritten: a new name gets a -2, -3... suffix)")
	fs.BoolVar(&c.json, "json", false, "print one JSON object")
	fs.StringVar(&c.runner, "runner", "prism", "Beam runner `R`: prism (in this process), universal (a portable job server at --endpoint: Prism's, Flink's, Spark's) or dataflow")
	fs.StringVar(&c.endpoint, "endpoint", "", "the job server at `HOST:PORT`, for --runner universal")
	fs.StringVar(&c.work, "work", "", "`PATH` under which the levels, visited sets and parent records go, in a directory of the search's own, removed after (default: the OS temp directory)")
	fs.IntVar(&c.partitions, "partitions", 4, "`N` fingerprint ranges the visited set is split into (the join's parallelism)")
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stderr, checkUsage)
		fs.VisitAll(func(f *flag.Flag) {
			name, usage := flag.UnquoteUsage(f)
			if f.DefValue != "" && f.DefValue != "0" && f.DefValue != "false" {
				usage += fmt.Sprintf(" (default %s)", f.DefValue)
			}
			fmt.Fprintf(stderr, "  --%s %s\n    \t%s\n", f.Name, name, usage)
		})
		return c, exitOK, false
	case err != nil:
		return c, usagef(stderr, "%s", strings.Replace(err.Error(), " -", " --", 1)), false
	case fs.NArg() > 0:
		return c, usagef(stderr, "unexpected argument %q", fs.Arg(0)), false
	}
	if status, ok := c.validate(stderr); !ok {
		return c, status, false
	}
	return c, exitOK, true
}

// validate checks the flags as verishake check does, and the runner's.
func (c *checkFlags) validate(stderr io.Writer) (int, bool) {
	var err error
	if c.profile, err = c.job.Resolved(); err != nil {
		return usagef(stderr, "%v", err), false
	}
	b := c.job.Bounds
	for _, f := range []struct {
		name   string
		v, min int
	}{{"clients", b.Clients, 1}, {"sessions", b.Sessions, 1}, {"losses", b.Losses, 0}, {"dups", b.Dups, 0},
		{"injects", b.Injects, 0}, {"retries", b.Retries, 0}, {"commands", b.Commands, 0}} {
		if f.v < f.min {
			return usagef(stderr, "--%s %d: want at least %d", f.name, f.v, f.min), false
		}
	}
	if b.Clients > 8 || b.Sessions > 8 {
		return usagef(stderr, "--clients %d --sessions %d: at most 8 each (the state space grows exponentially)", b.Clients, b.Sessions), false
	}
	if c.caps, err = c.job.Capabilities(); err != nil {
		return usagef(stderr, "%v", err), false
	}
	switch {
	case c.maxStates < 0:
		return usagef(stderr, "--max-states %d: must not be negative", c.maxStates), false
	case c.partitions < 1:
		return usagef(stderr, "--partitions %d: want at least 1", c.partitions), false
	case c.runner != "prism" && c.runner != "universal" && c.runner != "dataflow":
		return usagef(stderr, "--runner %q: want prism, universal or dataflow", c.runner), false
	case c.runner == "universal" && c.endpoint == "":
		return usagef(stderr, "--runner universal: needs --endpoint HOST:PORT of a job server"), false
	case c.runner != "universal" && c.endpoint != "":
		return usagef(stderr, "--endpoint %s: only for --runner universal", c.endpoint), false
	case c.runner == "dataflow" && !strings.HasPrefix(c.work, "gs://"):
		return usagef(stderr, "--runner dataflow: needs --work gs://BUCKET/PATH, which its workers share"), false
	}
	if c.endpoint != "" {
		if host, port, err := splitEndpoint(c.endpoint); err != nil {
			return usagef(stderr, "--endpoint %q: %v", c.endpoint, err), false
		} else {
			c.endpoint = host + ":" + port
		}
	}
	if c.work != "" && !strings.Contains(c.work, "://") {
		if fi, err := os.Stat(c.work); err == nil && !fi.IsDir() {
			return usagef(stderr, "--work %s: not a directory", c.work), false
		}
	}
	if err := flag.CommandLine.Parse(c.beamArgs); err != nil {
		return usagef(stderr, "Beam option after --: %v", err), false
	}
	return exitOK, true
}

func runCheck(args []string, stdout, stderr io.Writer) int {
	c, status, ok := parseCheck(args, stderr)
	if !ok {
		return status
	}
	beam.Init()
	m, err := c.job.Model()
	if err != nil {
		return usagef(stderr, "%v", err)
	}
	work := c.work
	if work == "" {
		dir, err := os.MkdirTemp("", "verishake-beam-work-")
		if err != nil {
			return usagef(stderr, "--work: %v", err)
		}
		defer os.RemoveAll(dir)
		work = dir
	}
	var runner bfs.Runner = bfs.Prism{}
	switch c.runner {
	case "universal":
		runner = bfs.Universal{Endpoint: c.endpoint}
	case "dataflow":
		runner = dataflowRunner{}
	}
	// Ctrl-C ends the search between levels; the report is then partial.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := bfs.Search(ctx, m, c.job.Spec(), bfs.Options{Runner: runner, Work: work, Partitions: c.partitions, MaxStates: c.maxStates})
	if err != nil {
		fmt.Fprintf(stderr, "verishake-beam check: %v\n", err)
		return exitUsage
	}
	rep, err := c.report(m, res, work)
	if err != nil {
		fmt.Fprintf(stderr, "verishake-beam check: %v\n", err)
		return exitUsage
	}
	if ctx.Err() != nil {
		rep.Interrupted = true
		fmt.Fprintln(stderr, "verishake-beam check: interrupted: the report is partial, and what it did not find violated is unknown")
	}
	if c.json {
		out, _ := json.Marshal(rep)
		fmt.Fprintln(stdout, string(out))
	} else {
		printCheck(stdout, rep)
	}
	return verifier.Status(rep.Properties)
}

// report is the search's report as verishake check gives it, each
// counterexample written as a trace verishake replay re-runs.
func (c *checkFlags) report(m *explore.Model, res bfs.Result[sim.Step], work string) (checkReport, error) {
	r := res.Report
	sym, rename := m.Reductions()
	caps := c.caps
	out := checkReport{
		CheckReport: verifier.CheckReport{
			Profile: c.profile.Name, Variant: c.job.Variant, Bounds: c.job.Bounds, Adversary: caps.String(),
			States: r.States, Transitions: r.Transitions, Depth: r.Depth, Complete: r.Complete,
			Seconds: r.Elapsed.Seconds(), BytesPerState: float64(r.VisitedBytes) / float64(max(r.States, 1)),
			Symmetry: sym, RenameTokens: rename, Stopped: r.Stopped, WorkDir: work, Disk: r.Disk,
		},
		Beam: &beamReport{Runner: c.runner, Endpoint: c.endpoint, Partitions: c.partitions, Levels: res.Pipelines,
			Candidates: res.Candidates, ShuffledBytes: res.Shuffled},
	}
	if r.Elapsed > 0 {
		out.StatesPerSec = float64(r.States) / r.Elapsed.Seconds()
	}
	if r.States > 0 {
		out.Beam.ShuffledPerState = float64(res.Shuffled) / float64(r.States)
	}
	b := c.job.Bounds
	hasAdversary := b.Injects > 0 && caps != (adversary.Capabilities{}) || caps.Insider // as models.Handshake.Config has it
	switch {
	case !hasAdversary:
		out.Adversary = "none"
	case b.Injects == 0:
		out.Adversary = "insider (its own handshake only)"
	}
	for _, id := range explore.Properties {
		if id == protocol.Agree && !c.job.Agree {
			continue
		}
		p := verifier.Property{ID: id, By: "explore"}
		p.Set(r.Verdict(id))
		if ce, bad := r.Violated(id); bad {
			p.Reason = ce.Reason
			steps := m.Steps(ce.Actions)
			job := verifier.Job{Profile: c.profile, Variant: c.job.Variant, Bounds: c.job.Bounds, Caps: c.caps, CexDir: c.cex}
			path, err := job.WriteCounterexample(explore.Counterexample{Property: id, Steps: steps, Continuation: ce.Continuation})
			if err != nil {
				return out, err
			}
			if path != "" {
				p.Counterexample = &verifier.Counterexample{File: path, Steps: len(steps), Property: id, Replay: "verishake replay " + verifier.ShellQuote(path)}
			}
		}
		out.Properties = append(out.Properties, p)
	}
	return out, nil
}
