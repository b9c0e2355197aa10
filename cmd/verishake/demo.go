package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/transport"
)

func init() {
	register(command{
		name:    "demo",
		usage:   "[--devices N] [--profile P] [--loss F] [--dup F] [--delay MIN..MAX] [--store FILE.db] [--trace-dir DIR]",
		summary: "run relay, server and devices on loopback: real handshakes and commands, traced, validated, diagrammed",
		run:     untilSignal(runDemo),
	})
}

// demoBudget bounds the whole demo: a lossy relay needs retransmissions,
// but a demo that hangs teaches nothing.
const demoBudget = 60 * time.Second

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("demo", stderr)
	n := fs.Int("devices", 3, "number of devices, each running one handshake and receiving one command")
	profileName := fs.String("profile", "hardened", "profile: patent or hardened")
	loss := fs.Float64("loss", 0, "relay: probability that a push is lost")
	dup := fs.Float64("dup", 0, "relay: probability that a push is delivered twice")
	delay := fs.String("delay", "0", "relay: delivery delay MIN..MAX")
	storePath := fs.String("store", "", "bbolt file for the server's sessions (default: in memory)")
	traceDir := fs.String("trace-dir", "", "keep the traces (server.jsonl, devices.jsonl) in DIR (default: a temporary directory, removed)")
	if status, ok := parseFlags(fs, args, 0, stderr); !ok {
		return status
	}
	if *n < 1 || *n > 10000 {
		return usagef(stderr, "demo", "--devices %d: want 1..10000", *n)
	}
	p, err := protocol.ProfileByName(*profileName)
	if err != nil {
		return usagef(stderr, "demo", "--profile: %v", err)
	}
	lo, hi, err := trParseDelay(*delay)
	if err != nil {
		return usagef(stderr, "demo", "--delay %q: %v", *delay, err)
	}
	if err := checkProbabilities(probabilityFlag{"loss", *loss}, probabilityFlag{"dup", *dup}); err != nil {
		return usagef(stderr, "demo", "%v", err)
	}
	faults := transport.Faults{Loss: *loss, Dup: *dup, DelayMin: lo, DelayMax: hi}
	if err := faults.Validate(); err != nil {
		return usagef(stderr, "demo", "%v", err)
	}
	if p.Retries == 0 && *loss > 0 {
		return usagef(stderr, "demo", "--loss %v with profile %s: its client never retransmits, so a lost push strands it", *loss, p.Name)
	}
	dir := *traceDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "verishake-demo-"); err != nil {
			return usagef(stderr, "demo", "temporary trace directory: %v", err)
		}
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return usagef(stderr, "demo", "--trace-dir: %v", err)
	}
	var store transport.Store = transport.NewMemoryStore()
	if *storePath != "" {
		bs, err := transport.OpenBoltStore(*storePath)
		if err != nil {
			return usagef(stderr, "demo", "--store: %v", err)
		}
		store = bs
	}
	defer store.Close()

	files := []string{filepath.Join(dir, "server.jsonl"), filepath.Join(dir, "devices.jsonl")}
	ctx, cancel := context.WithTimeout(ctx, demoBudget)
	defer cancel()
	d := &demo{p: p, h: p.MustCompile(), faults: faults, store: store, stderr: stderr}
	runErr := d.run(ctx, *n, files)
	if runErr != nil {
		fmt.Fprintf(stderr, "verishake demo: %v\n", runErr)
		return exitUsage
	}

	// The run is over and every trace closed: check it against the model.
	var inputs []transport.TraceInput
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return usagef(stderr, "demo", "%v", err)
		}
		defer f.Close()
		inputs = append(inputs, transport.TraceInput{Name: name, R: f})
	}
	rep, err := transport.ValidateTraces(inputs)
	if err != nil {
		fmt.Fprintf(stderr, "verishake demo: own trace rejected: %v\n", err)
		return exitViolation
	}
	fmt.Fprintf(stderr, "verishake demo: %d devices verified, %d commands executed; trace of %d steps validated against the model (%d claims, %d violations)\n",
		rep.Verified, d.executed, rep.Steps, rep.Claims, len(rep.Violations))
	if *traceDir != "" {
		fmt.Fprintf(stderr, "verishake demo: traces kept: %s %s (verishake validate %s %s)\n", files[0], files[1], files[0], files[1])
	}
	for _, v := range rep.Violations {
		fmt.Fprintf(stderr, "verishake demo: VIOLATION %s\n", v)
	}
	if ids := rep.VerifiedClients(); len(ids) > 0 {
		fmt.Fprint(stdout, rep.SequenceDiagram(ids[0]))
	}
	if !rep.OK() {
		return exitViolation
	}
	return exitOK
}

type demo struct {
	p        protocol.Profile
	h        *protocol.Handshake
	faults   transport.Faults
	store    transport.Store
	stderr   io.Writer
	mu       sync.Mutex
	executed int
}

// run starts relay and server on loopback ports, runs n devices through a
// handshake and a command each, and shuts everything down, traces closed.
func (d *demo) run(ctx context.Context, n int, files []string) (err error) {
	// Tokens of this run only: nothing outside the process knows them.
	bearer, enrol := randomToken(), randomToken()
	relay, err := transport.NewRelay(transport.RelayConfig{Faults: d.faults, Bearer: bearer, RegisterToken: enrol})
	if err != nil {
		return err
	}
	serverTrace, err := os.Create(files[0])
	if err != nil {
		return err
	}
	defer serverTrace.Close()
	deviceTrace, err := os.Create(files[1])
	if err != nil {
		return err
	}
	defer deviceTrace.Close()
	stw, err := transport.NewTraceWriter(serverTrace, d.p)
	if err != nil {
		return err
	}
	dtw, err := transport.NewTraceWriter(deviceTrace, d.p)
	if err != nil {
		return err
	}

	relayLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	serverLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		relayLn.Close()
		return err
	}
	relayURL, serverURL := "http://"+relayLn.Addr().String(), "http://"+serverLn.Addr().String()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2 * n}}
	defer hc.CloseIdleConnections()
	srv, err := transport.NewServer(transport.ServerConfig{
		Handshake: d.h, Store: d.store, Tracer: stw,
		Pusher: &transport.FCMPusher{BaseURL: relayURL, Project: "demo", Auth: transport.StaticBearer(bearer), Client: hc, TTL: d.p.Lifetime},
	})
	if err != nil {
		relayLn.Close()
		serverLn.Close()
		return err
	}

	// Everything below stops when runCtx ends: servers, then devices.
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	serveErrs := make(chan error, 2)
	wg.Add(2)
	// Every device holds a long-poll and may send upstream at once.
	relayLimits, serveLimits := transport.DefaultRelayLimits(), transport.DefaultServeLimits()
	relayLimits.MaxConns = max(relayLimits.MaxConns, 2*n+64)
	serveLimits.MaxConns = max(serveLimits.MaxConns, 2*n+64)
	go func() { defer wg.Done(); serveErrs <- trServeUntil(runCtx, relayLn, relay, relay.Close, relayLimits) }()
	go func() { defer wg.Done(); serveErrs <- trServeUntil(runCtx, serverLn, srv, nil, serveLimits) }()
	fmt.Fprintf(d.stderr, "verishake demo: relay on %s, server on %s, %d devices, profile %s\n", relayURL, serverURL, n, d.p.Name)

	devCtx, stopDevices := context.WithCancel(runCtx)
	var devWG sync.WaitGroup
	defer func() {
		stopDevices()
		devWG.Wait()
		// A connection the client dialled but never used is, to the server,
		// one whose request has not arrived yet: Shutdown waits up to 5 s
		// for it. Close them first.
		hc.CloseIdleConnections()
		stop()
		wg.Wait()
		close(serveErrs)
		for e := range serveErrs {
			if e != nil && err == nil {
				err = e
			}
		}
		_ = srv.Close()
		for _, tw := range []*transport.TraceWriter{stw, dtw} {
			if cerr := tw.Close(); cerr != nil && err == nil {
				err = cerr
			}
		}
	}()

	var devs []*transport.Device
	for range n {
		dev, err := transport.RegisterDevice(ctx, transport.DeviceConfig{
			Handshake: d.h, RelayURL: relayURL, RegisterToken: enrol, ServerURL: serverURL, HTTPClient: hc, Tracer: dtw,
			PollWait: 5 * time.Second,
			OnCommand: func(protocol.Message) {
				d.mu.Lock()
				d.executed++
				d.mu.Unlock()
			},
		})
		if err != nil {
			return err
		}
		devs = append(devs, dev)
		devWG.Add(1)
		go func() { defer devWG.Done(); _ = dev.Run(devCtx) }()
	}

	errs := make(chan error, n)
	for _, dev := range devs {
		go func() { errs <- d.one(ctx, srv, dev) }()
	}
	var first error
	for range devs {
		if e := <-errs; e != nil && first == nil {
			first = e
		}
	}
	if first != nil {
		if ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return errors.New("interrupted")
		}
		return first
	}
	return nil
}

// one runs a device's handshake, then sends it commands until one is
// executed: the protocol does not retransmit commands, so on a lossy relay
// the service sends again under the next number.
func (d *demo) one(ctx context.Context, srv *transport.Server, dev *transport.Device) error {
	if _, err := dev.Handshake(ctx); err != nil {
		return err
	}
	for ctx.Err() == nil {
		before := dev.Client().LastSeq
		_, err := srv.Issue(ctx, dev.RegID(), fmt.Sprintf("hello, device %d", dev.RegID()))
		if errors.Is(err, transport.ErrNotPushed) {
			// Not delivered, and reported as such: send it again shortly.
			select {
			case <-time.After(100 * time.Millisecond):
			case <-ctx.Done():
			}
			continue
		}
		if err != nil {
			return err
		}
		wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err = dev.Wait(wctx, func(c protocol.Client) bool { return c.LastSeq > before || c.State != protocol.ClientVerified })
		cancel()
		if err == nil {
			if c := dev.Client(); c.State != protocol.ClientVerified {
				return fmt.Errorf("device %d: left Verified (%v) while waiting for its command", dev.RegID(), c.State)
			}
			return nil
		}
	}
	return fmt.Errorf("device %d: no command executed: %w", dev.RegID(), ctx.Err())
}
