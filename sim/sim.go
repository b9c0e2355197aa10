package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/trace"
)

// Channel is the fault model of one direction of the network. Each message
// is lost with probability Loss; otherwise it is duplicated with
// probability Dup; each copy is delayed uniformly in [DelayMin, DelayMax]
// (so messages overtake each other when the range is wide) and, on
// arrival, corrupted with probability Corrupt: its frame gets one byte
// flipped, and a frame that no longer decodes is lost.
type Channel struct {
	Loss     float64       `json:"loss"`
	Dup      float64       `json:"dup"`
	Corrupt  float64       `json:"corrupt"`
	DelayMin time.Duration `json:"delay_min"` // nanoseconds in JSON
	DelayMax time.Duration `json:"delay_max"`
}

func (c Channel) validate(name string) error {
	var errs []error
	for _, p := range []struct {
		field string
		v     float64
	}{{"Loss", c.Loss}, {"Dup", c.Dup}, {"Corrupt", c.Corrupt}} {
		if !(p.v >= 0 && p.v <= 1) {
			errs = append(errs, fmt.Errorf("sim: config %s.%s %v is not a probability in [0, 1]", name, p.field, p.v))
		}
	}
	if c.DelayMin < 0 || c.DelayMax < c.DelayMin {
		errs = append(errs, fmt.Errorf("sim: config %s delay %v..%v: want 0 ≤ min ≤ max", name, c.DelayMin, c.DelayMax))
	}
	return errors.Join(errs...)
}

// Config is one simulation run. The zero value is not useful; start from
// DefaultConfig.
type Config struct {
	// Profile is the profile the machines run, variant applied.
	Profile protocol.Profile `json:"-"`
	// Variant names the variant applied to Profile, for reports.
	Variant string `json:"-"`
	// Seed makes the run: same Config, same run, byte for byte.
	Seed uint64 `json:"-"`
	// Clients is the number of honest clients (RegIDs 1..Clients).
	Clients int `json:"clients"`
	// Handshakes is how many handshakes the clients start in all.
	Handshakes int `json:"handshakes"`
	// Commands is how many commands the server issues after verifying a
	// session, CommandGap apart starting CommandGap after the verification.
	Commands   int           `json:"commands"`
	CommandGap time.Duration `json:"command_gap"`
	// Rate is the arrival rate of handshakes per client per virtual
	// second: arrivals form one Poisson process of rate Rate·Clients. An
	// arrival starts a handshake on a client picked uniformly among those
	// not in one, or waits for the next to finish. Keep Rate times the
	// handshake latency well below 1, or arrivals queue and every client
	// re-keys the moment it verifies.
	Rate float64 `json:"rate"`
	// Upstream (client → server) and Push (server → client) fault models.
	Upstream Channel `json:"upstream"`
	Push     Channel `json:"push"`
	// Adversary names the strategy (see RegisterAdversary); "none" for none.
	Adversary string `json:"adversary"`
	// AdversaryRate is how often the adversary may move, per virtual
	// second (a Poisson process), while handshakes remain to be run. A
	// move may send several messages (a forge or flood burst).
	AdversaryRate float64 `json:"adversary_rate"`
	// Horizon stops the run at this virtual time; zero derives one that
	// leaves every handshake time to end (see horizon).
	Horizon time.Duration `json:"horizon"`
}

// DefaultConfig is `verishake sim` without flags: hardened, 1000 clients,
// 10000 handshakes, each client starting one every 4 virtual seconds on
// average, one command per verified session 100ms after it, a
// push platform with 10ms..200ms of delay and no other fault, no adversary.
func DefaultConfig() Config {
	ch := Channel{DelayMin: 10 * time.Millisecond, DelayMax: 200 * time.Millisecond}
	return Config{
		Profile:       protocol.Hardened(),
		Seed:          1,
		Clients:       1000,
		Handshakes:    10000,
		Commands:      1,
		CommandGap:    100 * time.Millisecond,
		Rate:          0.25,
		Upstream:      ch,
		Push:          ch,
		Adversary:     NoneAdversary,
		AdversaryRate: 100,
	}
}

// Validate reports every field out of range, naming it.
func (c Config) Validate() error {
	var errs []error
	if err := c.Profile.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Clients < 1 {
		errs = append(errs, fmt.Errorf("sim: config Clients %d: want at least 1", c.Clients))
	}
	if c.Handshakes < 0 {
		errs = append(errs, fmt.Errorf("sim: config Handshakes %d is negative", c.Handshakes))
	}
	if c.Commands < 0 || c.Commands > math.MaxUint32 {
		errs = append(errs, fmt.Errorf("sim: config Commands %d out of range", c.Commands))
	}
	if c.CommandGap < 0 {
		errs = append(errs, fmt.Errorf("sim: config CommandGap %v is negative", c.CommandGap))
	}
	if !(c.Rate > 0) || math.IsInf(c.Rate, 0) {
		errs = append(errs, fmt.Errorf("sim: config Rate %v: want a positive arrival rate", c.Rate))
	}
	if !(c.AdversaryRate >= 0) || math.IsInf(c.AdversaryRate, 0) {
		errs = append(errs, fmt.Errorf("sim: config AdversaryRate %v: want a rate ≥ 0", c.AdversaryRate))
	}
	if c.Horizon < 0 {
		errs = append(errs, fmt.Errorf("sim: config Horizon %v is negative", c.Horizon))
	}
	errs = append(errs, c.Upstream.validate("Upstream"), c.Push.validate("Push"))
	return errors.Join(errs...)
}

// horizon is the virtual time after which a run stops. Unless Config sets
// one, it leaves ample time for every handshake to end, yet stays finite
// whatever an adversary does: the arrivals' span with a wide margin
// ((4N+50)/rate: a sum of N exponential gaps overshoots it with negligible
// probability), plus the time a backlog of waiting arrivals takes to drain
// through the clients, plus ten LIVE budgets (ten minutes for a profile
// without one).
func (c Config) horizon() protocol.Time {
	if c.Horizon > 0 {
		return protocol.Time(c.Horizon)
	}
	budget, ok := LiveBudget(c.Profile)
	if !ok {
		budget = time.Minute
	}
	each := budget + 4*max(c.Upstream.DelayMax, c.Push.DelayMax) + time.Duration(c.Commands+1)*c.CommandGap
	arrivals := time.Duration((4*float64(c.Handshakes) + 50) / c.arrivalRate() * float64(time.Second))
	drain := time.Duration(c.Handshakes/c.Clients+1) * each
	return protocol.Time(0).Add(arrivals + drain + 10*each)
}

// arrivalRate is the arrival process's rate, per virtual second.
func (c Config) arrivalRate() float64 { return c.Rate * float64(c.Clients) }

// Command returns the `verishake sim` command line that runs c, listing the
// flags that differ from DefaultConfig (and always the seed).
func (c Config) Command() string {
	d := DefaultConfig()
	var b strings.Builder
	b.WriteString("verishake sim")
	flag := func(name, v string) { fmt.Fprintf(&b, " --%s %s", name, v) }
	// A variant renames the profile "<profile>+<variant>"; the flag wants
	// the profile it was applied to.
	if base := strings.TrimSuffix(c.Profile.Name, "+"+c.Variant); base != d.Profile.Name {
		flag("profile", base)
	}
	if c.Variant != "" {
		flag("variant", c.Variant)
	}
	if c.Clients != d.Clients {
		flag("clients", strconv.Itoa(c.Clients))
	}
	if c.Handshakes != d.Handshakes {
		flag("handshakes", strconv.Itoa(c.Handshakes))
	}
	if c.Commands != d.Commands {
		flag("commands", strconv.Itoa(c.Commands))
	}
	if c.Rate != d.Rate {
		flag("rate", strconv.FormatFloat(c.Rate, 'g', -1, 64))
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	if c.Upstream.Loss != 0 || c.Push.Loss != 0 {
		flag("loss", f(c.Upstream.Loss))
		if c.Push.Loss != c.Upstream.Loss {
			flag("push-loss", f(c.Push.Loss))
		}
	}
	if c.Upstream.Dup != 0 {
		flag("dup", f(c.Upstream.Dup))
	}
	if c.Upstream.DelayMin != d.Upstream.DelayMin || c.Upstream.DelayMax != d.Upstream.DelayMax {
		flag("delay", c.Upstream.DelayMin.String()+".."+c.Upstream.DelayMax.String())
	}
	if c.Upstream.Corrupt != 0 {
		flag("corrupt", f(c.Upstream.Corrupt))
	}
	if c.Adversary != "" && c.Adversary != NoneAdversary {
		flag("adversary", c.Adversary)
	}
	if c.Horizon != 0 {
		flag("horizon", c.Horizon.String())
	}
	flag("seed", strconv.FormatUint(c.Seed, 10))
	return b.String()
}

// StepCounts counts the steps a run took, by kind.
type StepCounts struct {
	Deliver     uint64 `json:"deliver"`
	Drop        uint64 `json:"drop"`
	Dup         uint64 `json:"dup"`
	Corrupt     uint64 `json:"corrupt"`
	ClientTimer uint64 `json:"client_timer"`
	ServerTimer uint64 `json:"server_timer"`
	Start       uint64 `json:"start"`
	Issue       uint64 `json:"issue"`
	Inject      uint64 `json:"inject"`
}

// Report is the outcome of a run. Everything in it is a function of the
// Config, except the wall-clock fields WallSeconds, HandshakesPerSec and
// StepsPerSec.
type Report struct {
	Seed      uint64 `json:"seed"`
	Profile   string `json:"profile"`
	Variant   string `json:"variant"`
	Adversary string `json:"adversary"`
	Clients   int    `json:"clients"`
	// Handshakes counts the handshakes started; Verified, Failed and
	// Unfinished how they ended (Unfinished: still running at the stop).
	Handshakes uint64 `json:"handshakes"`
	Verified   uint64 `json:"verified"`
	Failed     uint64 `json:"failed"`
	Unfinished uint64 `json:"unfinished"`
	// HalfVerified counts handshakes the client gave up while the server
	// verified their session (docs/properties.md, AGREE).
	HalfVerified uint64 `json:"half_verified"`
	// Violations lists the properties broken; the run stops at the first,
	// so it holds at most one. Never null.
	Violations []trace.Violation `json:"violations"`
	// Stopped says why the run ended: "done" (nothing left to happen),
	// "horizon" (virtual time ran out), "violation", or "interrupted"
	// (RunOptions.Stop).
	Stopped string `json:"stopped"`
	// Steps is the number of steps taken, StepCounts the same by kind.
	Steps      uint64     `json:"steps"`
	StepCounts StepCounts `json:"step_counts"`
	// Messages honest machines sent, and client retransmissions among
	// them, per handshake started.
	MessagesPerHandshake        float64 `json:"messages_per_handshake"`
	RetransmissionsPerHandshake float64 `json:"retransmissions_per_handshake"`
	// Rejected inputs, lost messages (undecodable or undeliverable),
	// commands issued and executed.
	Rejected         uint64 `json:"rejected"`
	Lost             uint64 `json:"lost"`
	CommandsIssued   uint64 `json:"commands_issued"`
	CommandsExecuted uint64 `json:"commands_executed"`
	// DeliverChecked says whether DELIVER was asked of the run: no message
	// was lost and no adversary moved. CommandsLeft counts the commands
	// that reached a client after it had left their session, by starting
	// another handshake (DELIVER does not count them as lost).
	DeliverChecked bool   `json:"deliver_checked"`
	CommandsLeft   uint64 `json:"commands_left"`
	// Virtual latency, from Start to Verified, of verified handshakes, in
	// milliseconds (LatencyUnit), within 0.8%.
	LatencyUnit string  `json:"latency_unit"`
	LatencyP50  float64 `json:"latency_p50"`
	LatencyP90  float64 `json:"latency_p90"`
	LatencyP99  float64 `json:"latency_p99"`
	LatencyMax  float64 `json:"latency_max"`
	// MaxHalfOpen is the most half-open sessions the server held.
	MaxHalfOpen int `json:"max_half_open"`
	// ForgeGuesses counts the adversary's messages with a guessed token
	// that reached a receiver, ForgeAccepted those it accepted: FORGE's
	// statistic (zero without a guessing adversary).
	ForgeGuesses  uint64 `json:"forge_guesses"`
	ForgeAccepted uint64 `json:"forge_accepted"`
	// VirtualSeconds is the virtual time the run covered.
	VirtualSeconds float64 `json:"virtual_seconds"`
	// Replay is a command that reruns the run with a trace and replays it;
	// set when a property was violated.
	Replay string `json:"replay,omitempty"`
	// TraceTail holds the last trace records up to the violation (see
	// Tail); set by the CLI when a property was violated.
	TraceTail []json.RawMessage `json:"trace_tail,omitempty"`
	// Wall-clock figures: these differ from run to run.
	WallSeconds      float64 `json:"wall_seconds"`
	HandshakesPerSec float64 `json:"handshakes_per_sec"`
	StepsPerSec      float64 `json:"steps_per_sec"`

	latency *histogram // for PlotLatency
}

// WallClockFields are the JSON keys of Report that depend on the machine
// and not on the Config; determinism checks leave them out.
var WallClockFields = []string{"wall_seconds", "handshakes_per_sec", "steps_per_sec"}

// RunOptions are what a run reports to, besides its Report.
type RunOptions struct {
	// Trace, when set, receives the run's JSON Lines trace.
	Trace io.Writer
	// Progress, when set, is called now and then with the handshakes
	// started so far and the total to start.
	Progress func(started, total int)
	// StopAfter, when non-zero, stops the run after that many steps
	// (stopped "limit"); used to re-run a failing run up to its violation.
	StopAfter uint64
	// TraceAfter leaves steps 1..TraceAfter out of the trace, which then
	// does not replay: for a tail of a long run (see Tail).
	TraceAfter uint64
	// Stop, when it is closed, ends the run within a few thousand steps
	// (stopped "interrupted"): a Ctrl-C still gets the report so far.
	Stop <-chan struct{}
}

// Runner is the random scheduler: it drives a World through a
// time-ordered event queue, choosing every fault with a generator seeded
// from Config.Seed, and takes every move as a Step through World.Apply —
// so its trace replays through Apply alone.
type Runner struct {
	cfg  Config
	opts RunOptions
	w    *World
	rng  *rand.Rand
	q    queue
	mon  *Monitors
	tw   *trace.Writer

	n       uint64 // steps taken
	horizon protocol.Time
	stopped string
	viol    []trace.Violation

	clientArmed []protocol.Time // per client: the timer event queued, Never if none
	serverArmed []protocol.Time // per honest RegID-1: likewise
	idle        []int32         // clients not in a handshake
	idlePos     []int32         // client → index in idle, -1 if busy
	waiting     int             // arrivals waiting for an idle client
	arrivals    int             // arrivals so far
	lat         histogram
	maxHalfOpen int
	advBuf      []protocol.Message
	guesser     Guesser // the adversary, if it marks its guesses
	nextProg    uint64
	res         Result // the last step's, reused
}

// NewRunner checks cfg and builds its world and adversary.
func NewRunner(cfg Config, opts RunOptions) (*Runner, error) {
	// Validate, NewAdversary and NewWorld give errors with the package's
	// prefix already; the profile's come from protocol.
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	h, err := cfg.Profile.Compile()
	if err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	adv, err := NewAdversary(cfg.Adversary, AdversaryParams{Profile: cfg.Profile, Clients: cfg.Clients, Insider: protocol.RegID(cfg.Clients + 1)})
	if err != nil {
		return nil, err
	}
	w, err := NewWorld(h, cfg.worldOptions(adv))
	if err != nil {
		return nil, err
	}
	r := &Runner{
		cfg:         cfg,
		opts:        opts,
		w:           w,
		rng:         rand.New(rand.NewPCG(cfg.Seed, 0x5eed5eed_c0ffee)),
		mon:         NewMonitors(cfg.Profile, cfg.Clients, RetireWindow(cfg)),
		horizon:     cfg.horizon(),
		clientArmed: make([]protocol.Time, cfg.Clients),
		serverArmed: make([]protocol.Time, cfg.Clients),
		idle:        make([]int32, cfg.Clients),
		idlePos:     make([]int32, cfg.Clients),
	}
	r.guesser, _ = adv.(Guesser)
	// Lanes for the fixed delays of the profile's timers and the commands.
	p := cfg.Profile
	for try := 1; try <= min(p.Retries, 8)+1; try++ {
		r.q.addLane(protocol.Time(p.RetryWait(try)))
	}
	if p.Lifetime > 0 {
		r.q.addLane(protocol.Time(p.Lifetime))
	}
	for k := 1; k <= min(cfg.Commands, 4); k++ {
		r.q.addLane(protocol.Time(time.Duration(k) * cfg.CommandGap))
	}
	for i := range cfg.Clients {
		r.clientArmed[i], r.serverArmed[i] = protocol.Never, protocol.Never
		r.idle[i], r.idlePos[i] = int32(i), int32(i)
	}
	if opts.Trace != nil {
		r.tw = trace.NewWriter(opts.Trace)
		if err := r.tw.Header(cfg.header()); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// World returns the runner's world, for inspection after Run.
func (r *Runner) World() *World { return r.w }

// worldOptions are the options of the world a run of cfg drives. Replay
// builds its world from them too, so the tokens come out the same.
func (cfg Config) worldOptions(adv Adversary) WorldOptions {
	return WorldOptions{
		Clients:    cfg.Clients,
		Handshakes: cfg.Handshakes,
		Commands:   cfg.Commands,
		Tokens:     protocol.NewSeededTokens(cfg.Seed),
		Adversary:  adv,
	}
}

func (cfg Config) header() trace.Header {
	return trace.Header{Type: trace.LineHeader, Schema: trace.Schema, Source: trace.SourceSim, Tokens: trace.TokensSeeded,
		Profile: cfg.Profile, Variant: cfg.Variant, Seed: cfg.Seed, Config: cfg.traceConfig()}
}

// Run runs the configuration to its end and reports. The error is for
// failures to write the trace; a violated property is in the Report.
func Run(cfg Config, opts RunOptions) (*Report, error) {
	r, err := NewRunner(cfg, opts)
	if err != nil {
		return nil, err
	}
	return r.Run()
}

// Run runs to the end: no event left, the horizon passed, a property
// violated, RunOptions.StopAfter steps taken, or RunOptions.Stop closed.
func (r *Runner) Run() (*Report, error) {
	start := time.Now()
	if r.cfg.Handshakes > 0 {
		r.q.push(event{at: 0, kind: evArrival})
	}
	if _, none := r.w.adv.(NoAdversary); !none && r.cfg.AdversaryRate > 0 {
		r.q.push(event{at: r.exp(r.cfg.AdversaryRate), kind: evAdversary})
	}
	for events := 0; r.stopped == ""; events++ {
		k, next := r.q.next()
		if next == nil {
			r.stopped = "done"
			break
		}
		if next.at > r.horizon {
			r.stopped = "horizon"
			break
		}
		if err := r.event(r.q.take(k)); err != nil {
			return nil, err
		}
		if r.opts.Stop != nil && events&(1<<12-1) == 0 {
			select {
			case <-r.opts.Stop:
				r.stopped = "interrupted"
			default:
			}
		}
		if r.opts.Progress != nil && r.n >= r.nextProg {
			r.nextProg = r.n + 1<<14
			r.opts.Progress(int(r.w.Counters.Started), r.cfg.Handshakes)
		}
	}
	// The time the run stopped at: replay checks the clock-driven LIVE
	// monitor at the same time.
	end := r.w.Now
	switch r.stopped {
	case "horizon":
		end = r.horizon
	case "violation":
		end = r.viol[0].T
	}
	if r.stopped == "done" || r.stopped == "horizon" {
		if v := r.mon.Finish(r.w, r.n, end); v != nil {
			r.viol = append(r.viol, *v)
		}
	}
	if r.opts.Progress != nil {
		r.opts.Progress(int(r.w.Counters.Started), r.cfg.Handshakes)
	}
	rep := r.report(time.Since(start))
	if r.tw != nil {
		if err := r.tw.End(trace.End{Type: trace.LineEnd, Steps: r.n, T: end, Stopped: r.stopped, Violations: rep.Violations}); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

func (r *Runner) report(wall time.Duration) *Report {
	c := &r.w.Counters
	s := &c.Steps
	rep := &Report{
		Seed: r.cfg.Seed, Profile: r.cfg.Profile.Name, Variant: r.cfg.Variant, Adversary: r.cfg.Adversary,
		Clients: r.cfg.Clients, Handshakes: c.Started, Verified: c.Verified, Failed: c.Failed,
		Unfinished: c.Started - c.Verified - c.Failed, HalfVerified: c.HalfVerified,
		Violations: append([]trace.Violation{}, r.viol...), Stopped: r.stopped, Steps: r.n,
		StepCounts: StepCounts{Deliver: s[StepDeliver], Drop: s[StepDrop], Dup: s[StepDup], Corrupt: s[StepCorrupt],
			ClientTimer: s[StepClientTimer], ServerTimer: s[StepServerTimer], Start: s[StepStart], Issue: s[StepIssue], Inject: s[StepInject]},
		Rejected: c.Rejected, Lost: c.Lost, CommandsIssued: c.Issued, CommandsExecuted: c.Executed,
		DeliverChecked: r.mon.Deliver.Checked(), CommandsLeft: r.mon.Deliver.Left(),
		LatencyUnit: "ms",
		LatencyP50:  ms(r.lat.quantile(0.50)), LatencyP90: ms(r.lat.quantile(0.90)),
		LatencyP99: ms(r.lat.quantile(0.99)), LatencyMax: ms(r.lat.max),
		MaxHalfOpen: r.maxHalfOpen, ForgeGuesses: c.ForgeGuesses, ForgeAccepted: c.ForgeAccepted,
		VirtualSeconds: time.Duration(r.w.Now).Seconds(),
		WallSeconds:    wall.Seconds(),
		latency:        &r.lat,
	}
	if c.Started > 0 {
		rep.MessagesPerHandshake = float64(c.Sent) / float64(c.Started)
		rep.RetransmissionsPerHandshake = float64(c.Retransmits) / float64(c.Started)
	}
	if sec := wall.Seconds(); sec > 0 {
		rep.HandshakesPerSec = float64(c.Started) / sec
		rep.StepsPerSec = float64(r.n) / sec
	}
	if len(rep.Violations) > 0 {
		rep.Replay = r.cfg.Command() + " --trace trace.jsonl; verishake replay trace.jsonl"
	}
	return rep
}

func ms(ns int64) float64 { return math.Round(float64(ns)/1e3) / 1e3 }

// exp draws an exponential inter-arrival time for a Poisson process.
func (r *Runner) exp(rate float64) protocol.Time {
	return protocol.Time(r.rng.ExpFloat64() / rate * float64(time.Second))
}

func (r *Runner) schedule(at protocol.Time, kind evKind, a int32, id uint64) {
	r.q.push(event{at: at, kind: kind, a: a, id: id})
}

// event carries out one queued event: zero, one or a few steps.
func (r *Runner) event(e event) error {
	switch e.kind {
	case evArrival:
		r.arrivals++
		if r.arrivals < r.cfg.Handshakes {
			r.schedule(e.at+r.exp(r.cfg.arrivalRate()), evArrival, 0, 0)
		}
		if len(r.idle) == 0 {
			r.waiting++
			return nil
		}
		c := r.idle[r.rng.IntN(len(r.idle))]
		return r.step(Step{Kind: StepStart, At: e.at, Client: c})
	case evStart:
		return r.step(Step{Kind: StepStart, At: e.at, Client: e.a})
	case evDeliver:
		return r.arrive(e)
	case evClientTimer:
		c := e.a
		if r.clientArmed[c] != e.at {
			return nil // superseded
		}
		r.clientArmed[c] = protocol.Never
		cl := &r.w.Clients[c]
		if !awaiting(cl.State) || cl.Deadline == protocol.Never {
			return nil
		}
		if cl.Deadline > e.at {
			r.armClient(c, cl.Deadline)
			return nil
		}
		return r.step(Step{Kind: StepClientTimer, At: e.at, Client: c})
	case evServerTimer:
		id := protocol.RegID(e.id)
		if r.w.Honest(id) {
			if r.serverArmed[id-1] != e.at {
				return nil
			}
			r.serverArmed[id-1] = protocol.Never
		}
		sl, ok := r.w.Server.Slot(id)
		if !ok {
			return nil
		}
		if d := sl.Deadline(); d != e.at {
			if d != protocol.Never && d > e.at {
				r.armServer(id, d)
			}
			return nil
		}
		return r.step(Step{Kind: StepServerTimer, At: e.at, RegID: id})
	case evIssue:
		return r.step(Step{Kind: StepIssue, At: e.at, RegID: protocol.RegID(e.id)})
	case evAdversary:
		if int(r.w.Counters.Started) < r.cfg.Handshakes || r.mon.Live.Running() > 0 {
			r.schedule(e.at+r.exp(r.cfg.AdversaryRate), evAdversary, 0, 0)
		}
		r.advBuf = r.w.adv.Inject(r.rng, e.at, r.advBuf[:0])
		for _, m := range r.advBuf {
			guess := r.guesser != nil && r.guesser.Guessed(m)
			if err := r.step(Step{Kind: StepInject, At: e.at, Msg: m, Guess: guess}); err != nil || r.stopped != "" {
				return err
			}
		}
	}
	return nil
}

// arrive is a message's arrival: perhaps corrupted on the way, then
// delivered. The adversary's own messages arrive intact: it controls their
// delivery, as launch says.
func (r *Runner) arrive(e event) error {
	env, ok := r.w.Envelope(e.a)
	if !ok || env.ID != MsgID(e.id) {
		return fmt.Errorf("sim: internal error: delivery of message %d finds slot %d empty or reused", e.id, e.a)
	}
	ch := r.channel(env.Msg.Kind)
	if ch.Corrupt > 0 && env.From != FromAdversary && r.rng.Float64() < ch.Corrupt {
		s := Step{Kind: StepCorrupt, At: e.at, Slot: e.a, ID: env.ID, Pos: uint16(r.rng.IntN(1 << 16)), Mask: uint8(1 + r.rng.IntN(255))}
		if err := r.step(s); err != nil || r.stopped != "" {
			return err
		}
		if _, still := r.w.Envelope(e.a); !still {
			return nil // the frame no longer decoded
		}
	}
	return r.step(Step{Kind: StepDeliver, At: e.at, Slot: e.a, ID: env.ID})
}

func (r *Runner) channel(k protocol.Kind) *Channel {
	if k.Upstream() {
		return &r.cfg.Upstream
	}
	return &r.cfg.Push
}

// launch sends an envelope just put in flight through its channel's
// faults: lost now, or duplicated, each copy then scheduled to arrive
// after its own delay. The adversary's own messages are not lost: it
// controls their delivery.
func (r *Runner) launch(slot int32, env Envelope) error {
	ch := r.channel(env.Msg.Kind)
	if env.From != FromAdversary {
		if ch.Loss > 0 && r.rng.Float64() < ch.Loss {
			return r.step(Step{Kind: StepDrop, At: r.w.Now, Slot: slot, ID: env.ID})
		}
		if ch.Dup > 0 && r.rng.Float64() < ch.Dup {
			// The duplicate's own arrival is scheduled by step.
			if err := r.step(Step{Kind: StepDup, At: r.w.Now, Slot: slot, ID: env.ID}); err != nil || r.stopped != "" {
				return err
			}
		}
	}
	r.schedule(r.w.Now+r.delay(ch), evDeliver, slot, uint64(env.ID))
	return nil
}

func (r *Runner) delay(ch *Channel) protocol.Time {
	d := ch.DelayMin
	if span := ch.DelayMax - ch.DelayMin; span > 0 {
		d += time.Duration(r.rng.Int64N(int64(span) + 1))
	}
	return protocol.Time(d)
}

// armClient makes sure client c's timer event for at is queued. A timer
// that moved is queued anew rather than fixed up in place; the event left
// behind no longer matches clientArmed and is skipped when it comes up.
// Most deadlines are now+Backoff, so the new events arrive in time order
// and take the cheap FIFO lane.
func (r *Runner) armClient(c int32, at protocol.Time) {
	if at != r.clientArmed[c] {
		r.clientArmed[c] = at
		r.q.pushAt(r.w.Now, event{at: at, kind: evClientTimer, a: c})
	}
}

// armServer is armClient for the server's timer of RegID id (session
// expiries: now+Lifetime). Timers of RegIDs no client holds are queued
// every time; they are rare (adversary traffic) and checked when they fire.
func (r *Runner) armServer(id protocol.RegID, at protocol.Time) {
	if r.w.Honest(id) {
		if at == r.serverArmed[id-1] {
			return
		}
		r.serverArmed[id-1] = at
	}
	r.q.pushAt(r.w.Now, event{at: at, kind: evServerTimer, id: uint64(id)})
}

// step applies one step, records and checks it, and schedules what
// follows from it: the answer's journey, the machine's next timer, the
// commands of a verified session, the next handshake of a waiting arrival.
func (r *Runner) step(s Step) error {
	if r.opts.StopAfter > 0 && r.n >= r.opts.StopAfter {
		r.stopped = "limit"
		return nil
	}
	if v := r.mon.Tick(r.n, s.At); v != nil {
		r.violate(*v)
		return nil
	}
	res := &r.res
	if err := r.w.ApplyInto(&s, res); err != nil {
		// err has the package's prefix (ErrStep).
		return fmt.Errorf("%w (an internal error, at step %d)", err, r.n+1)
	}
	r.n++
	if r.tw != nil && r.n > r.opts.TraceAfter {
		if err := r.tw.Step(RecordOf(r.n, s, res, r.w)); err != nil {
			return err
		}
	}
	if h := r.w.Server.HalfOpen(); h > r.maxHalfOpen {
		r.maxHalfOpen = h
	}
	if v := r.mon.Observe(r.w, r.n, res); v != nil {
		r.violate(*v)
		return nil
	}
	switch res.Role {
	case protocol.RoleClient:
		c := int32(res.RegID - 1)
		if res.Deadline != protocol.Never {
			r.armClient(c, res.Deadline)
		}
		switch {
		case s.Kind == StepStart && res.Err == nil:
			r.busy(c)
		case res.Ended == Verified:
			r.lat.add(int64(r.w.Now - res.Began))
			r.free(c)
		case res.Ended == Failed:
			r.free(c)
		}
	case protocol.RoleServer:
		if res.Deadline != protocol.Never {
			r.armServer(res.RegID, res.Deadline)
		}
		if r.w.Honest(res.RegID) {
			for _, cl := range res.ClaimList() {
				if cl.Kind == protocol.Commit {
					for k := 1; k <= r.cfg.Commands; k++ {
						r.q.pushAt(r.w.Now, event{at: r.w.Now + protocol.Time(time.Duration(k)*r.cfg.CommandGap), kind: evIssue, id: uint64(res.RegID)})
					}
				}
			}
		}
	}
	if res.Sent.Msg.Kind != 0 {
		if s.Kind == StepDup || s.Kind == StepCorrupt {
			if s.Kind == StepDup {
				r.schedule(r.w.Now+r.delay(r.channel(res.Sent.Msg.Kind)), evDeliver, res.SentSlot, uint64(res.Sent.ID))
			}
			return nil // a corrupted frame keeps its scheduled arrival
		}
		if res.SentSlot < 0 {
			return nil // absorbed as it was sent (World.send)
		}
		return r.launch(res.SentSlot, res.Sent)
	}
	return nil
}

func (r *Runner) violate(v trace.Violation) {
	r.viol = append(r.viol, v)
	r.stopped = "violation"
}

// busy takes client c off the idle list.
func (r *Runner) busy(c int32) {
	i := r.idlePos[c]
	if i < 0 {
		return
	}
	last := r.idle[len(r.idle)-1]
	r.idle[i], r.idlePos[last] = last, i
	r.idle = r.idle[:len(r.idle)-1]
	r.idlePos[c] = -1
}

// free puts client c back on the idle list, or hands it a waiting arrival.
func (r *Runner) free(c int32) {
	if r.waiting > 0 {
		r.waiting--
		r.schedule(r.w.Now, evStart, c, 0)
		return
	}
	if r.idlePos[c] < 0 {
		r.idlePos[c] = int32(len(r.idle))
		r.idle = append(r.idle, c)
	}
}

// Tail re-runs cfg up to step n and returns the trace records of its last
// k steps (up to n), one JSON object each. A run is a function of its
// Config, so this is the trace the first run would have written.
func Tail(cfg Config, n uint64, k int) ([]json.RawMessage, error) {
	t := &tailWriter{keep: k}
	after := uint64(0)
	if n > uint64(k) {
		after = n - uint64(k)
	}
	if _, err := Run(cfg, RunOptions{Trace: t, StopAfter: n, TraceAfter: after}); err != nil {
		return nil, err
	}
	return t.lines(), nil
}

// tailWriter keeps the last keep step lines written to it.
type tailWriter struct {
	keep    int
	partial []byte
	ring    [][]byte
	next    int
}

func (t *tailWriter) Write(p []byte) (int, error) {
	t.partial = append(t.partial, p...)
	for {
		i := bytes.IndexByte(t.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := bytes.Clone(t.partial[:i])
		t.partial = t.partial[i+1:]
		if !bytes.HasPrefix(line, []byte(`{"type":"step"`)) {
			continue
		}
		if len(t.ring) < t.keep {
			t.ring = append(t.ring, line)
		} else if t.keep > 0 {
			t.ring[t.next] = line
			t.next = (t.next + 1) % t.keep
		}
	}
}

func (t *tailWriter) lines() []json.RawMessage {
	out := make([]json.RawMessage, 0, len(t.ring))
	for i := range t.ring {
		out = append(out, t.ring[(t.next+i)%len(t.ring)])
	}
	return out
}
