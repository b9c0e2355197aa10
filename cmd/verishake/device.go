package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/transport"
)

func init() {
	register(command{
		name:    "device",
		usage:   "--relay URL --server URL [--count N] [--profile P] [--register-token T] [--timeout D] [--hold D] [--trace FILE] [--verbose]",
		summary: "run devices: register with a relay, verify with a server, print each command executed (exit 0 all verified, 1 some not)",
		run:     untilSignal(runDevice),
	})
}

// maxDevices bounds --count: each device holds a long-poll connection.
const maxDevices = 10000

func runDevice(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("device", stderr)
	relayURL := fs.String("relay", "", "base URL of the verishake relay the devices register with and poll (required)")
	serverURL := fs.String("server", "", "base URL of the verishake serve they send Hello and Confirm1 to (required)")
	count := fs.Int("count", 1, "number of devices, each registering and running one handshake")
	profileName := fs.String("profile", "hardened", "profile, the server's: patent or hardened")
	registerToken := fs.String("register-token", "", "the relay's registration token (default: $VERISHAKE_REGISTER_TOKEN, else \"local-device\", the relay's default)")
	timeout := fs.Duration("timeout", time.Minute, "longest the registrations and handshakes may take")
	hold := fs.Duration("hold", 0, "after the handshakes, keep polling this long, printing each command executed (Ctrl-C ends it)")
	tracePath := fs.String("trace", "", "write every device step to FILE as JSON Lines, for verishake validate")
	verbose := fs.Bool("verbose", false, "log each failed send or poll on stderr")
	if status, ok := parseFlags(fs, args, 0, stderr); !ok {
		return status
	}
	switch {
	case *relayURL == "":
		return usagef(stderr, "device", "--relay: required (the relay's base URL, e.g. http://127.0.0.1:8090)")
	case *serverURL == "":
		return usagef(stderr, "device", "--server: required (the server's base URL, e.g. http://127.0.0.1:8080)")
	}
	if err := trCheckURL(*relayURL); err != nil {
		return usagef(stderr, "device", "--relay %q: %v", *relayURL, err)
	}
	if err := trCheckURL(*serverURL); err != nil {
		return usagef(stderr, "device", "--server %q: %v", *serverURL, err)
	}
	if *count < 1 || *count > maxDevices {
		return usagef(stderr, "device", "--count %d: want 1..%d", *count, maxDevices)
	}
	if *timeout <= 0 {
		return usagef(stderr, "device", "--timeout %v: want a positive duration", *timeout)
	}
	if *hold < 0 {
		return usagef(stderr, "device", "--hold %v: negative", *hold)
	}
	p, err := protocol.ProfileByName(*profileName)
	if err != nil {
		return usagef(stderr, "device", "--profile: %v", err)
	}
	var tracer transport.Tracer
	var tw *transport.TraceWriter
	if *tracePath != "" {
		f, err := os.Create(*tracePath)
		if err != nil {
			return usagef(stderr, "device", "--trace: %v", err)
		}
		defer f.Close()
		if tw, err = transport.NewTraceWriter(f, p); err != nil {
			return usagef(stderr, "device", "--trace %s: %v", *tracePath, err)
		}
		tracer = tw
	}
	var logger *slog.Logger
	if *verbose {
		logger = slog.New(slog.NewTextHandler(stderr, nil)).With("cmd", "device")
	}

	var outMu sync.Mutex
	say := func(format string, args ...any) {
		outMu.Lock()
		defer outMu.Unlock()
		fmt.Fprintf(stdout, format+"\n", args...)
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2 * *count}}
	defer hc.CloseIdleConnections()
	runCtx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	devCtx, stopDevices := context.WithCancel(ctx)
	var wg sync.WaitGroup
	stop := func() {
		stopDevices()
		wg.Wait()
		hc.CloseIdleConnections()
	}
	defer stop()

	devs := make([]*transport.Device, 0, *count)
	for range *count {
		dev, err := transport.RegisterDevice(runCtx, transport.DeviceConfig{
			Handshake: p.MustCompile(), RelayURL: *relayURL, ServerURL: *serverURL, HTTPClient: hc,
			RegisterToken: envDefault(*registerToken, "VERISHAKE_REGISTER_TOKEN", "local-device"),
			Tracer:        tracer, Log: logger, PollWait: 10 * time.Second,
			OnCommand: func(m protocol.Message) { say("device %d: command %d: %q", m.RegID, m.Seq, m.Payload) },
		})
		if err != nil {
			return usagef(stderr, "device", "%v", err)
		}
		devs = append(devs, dev)
		wg.Go(func() { _ = dev.Run(devCtx) })
	}

	results := make(chan error, len(devs))
	for _, dev := range devs {
		go func() {
			_, err := dev.Handshake(runCtx)
			if err != nil {
				say("device %d: failed: %v", dev.RegID(), err)
			} else {
				say("device %d: verified", dev.RegID())
			}
			results <- err
		}()
	}
	verified := 0
	for range devs {
		if <-results == nil {
			verified++
		}
	}
	fmt.Fprintf(stderr, "verishake device: %d of %d devices verified\n", verified, len(devs))
	if *hold > 0 && ctx.Err() == nil {
		fmt.Fprintf(stderr, "verishake device: polling for commands for %v\n", *hold)
		select {
		case <-time.After(*hold):
		case <-ctx.Done():
		}
	}
	stop()
	if tw != nil {
		if err := tw.Close(); err != nil {
			return usagef(stderr, "device", "--trace %s: %v", *tracePath, err)
		}
	}
	if verified < len(devs) {
		return exitViolation
	}
	return exitOK
}
