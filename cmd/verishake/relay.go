package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/verishake/verishake/transport"
)

func init() {
	register(command{
		name:    "relay",
		usage:   "[--addr HOST:PORT] [--loss F] [--dup F] [--delay MIN..MAX] [--queue-cap N] [--ttl D] [--bearer T] [--register-token T] [--seed S] [--max-poll-wait D] [--metrics HOST:PORT] [limits]",
		summary: "run a local push platform: FCM's HTTP v1 send endpoint, device registration and long-poll delivery, with faults",
		run: untilSignal(func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
			return runRelay(ctx, args, stdout, stderr, nil)
		}),
	})
}

func runRelay(ctx context.Context, args []string, stdout, stderr io.Writer, ready func(addr string)) int {
	fs := newFlags("relay", stderr)
	addr := fs.String("addr", "127.0.0.1:8090", "address to listen on")
	loss := fs.Float64("loss", 0, "probability that a push is lost")
	dup := fs.Float64("dup", 0, "probability that a push is delivered twice")
	delay := fs.String("delay", "0", "delay of each delivery, uniform in MIN..MAX (e.g. 0..50ms); reorders pushes")
	queueCap := fs.Int("queue-cap", 100, "undelivered pushes kept per device; a send beyond it is refused with 429 RESOURCE_EXHAUSTED, as FCM does")
	ttl := fs.Duration("ttl", 0, "how long an undelivered push is kept when the sender sets no TTL (default 28 days)")
	bearer := fs.String("bearer", "", "bearer token senders must present to push and read stats (default: $VERISHAKE_PUSH_BEARER, else \"local\", serve's default)")
	registerToken := fs.String("register-token", "", "bearer token devices must present to register (default: $VERISHAKE_REGISTER_TOKEN, else \"local-device\")")
	seed := fs.Uint64("seed", 0, "seed of the fault model (default: random)")
	maxPollWait := fs.Duration("max-poll-wait", 30*time.Second, "longest wait a device's long-poll may ask for; below --write-timeout")
	metricsAddr := fs.String("metrics", "", "serve Prometheus metrics at http://HOST:PORT/metrics (default: off)")
	limits := addLimitFlags(fs, transport.DefaultRelayLimits())
	if status, ok := parseFlags(fs, args, 0, stderr); !ok {
		return status
	}
	if err := limits.Validate(); err != nil {
		return usagef(stderr, "relay", "--%v", err)
	}
	if *maxPollWait <= 0 {
		return usagef(stderr, "relay", "--max-poll-wait %v: want a positive duration", *maxPollWait)
	}
	if *maxPollWait+time.Second > limits.WriteTimeout {
		// A long-poll answered after the write timeout is a poll cut off.
		return usagef(stderr, "relay", "--write-timeout %v: want at least a second above --max-poll-wait %v", limits.WriteTimeout, *maxPollWait)
	}
	lo, hi, err := trParseDelay(*delay)
	if err != nil {
		return usagef(stderr, "relay", "--delay %q: %v", *delay, err)
	}
	if *queueCap <= 0 {
		return usagef(stderr, "relay", "--queue-cap %d: want at least 1", *queueCap)
	}
	if *ttl < 0 {
		return usagef(stderr, "relay", "--ttl %v: negative", *ttl)
	}
	senderToken := envDefault(*bearer, "VERISHAKE_PUSH_BEARER", "local")
	enrolToken := envDefault(*registerToken, "VERISHAKE_REGISTER_TOKEN", "local-device")
	if err := checkProbabilities(probabilityFlag{"loss", *loss}, probabilityFlag{"dup", *dup}); err != nil {
		return usagef(stderr, "relay", "%v", err)
	}
	faults := transport.Faults{Loss: *loss, Dup: *dup, DelayMin: lo, DelayMax: hi}
	if err := faults.Validate(); err != nil {
		return usagef(stderr, "relay", "%v", err)
	}
	r, err := transport.NewRelay(transport.RelayConfig{Bearer: senderToken, RegisterToken: enrolToken, Faults: faults, QueueCap: *queueCap, TTL: *ttl, Seed: *seed, MaxPollWait: *maxPollWait})
	if err != nil {
		return usagef(stderr, "relay", "%v", err)
	}
	ln, err := trListen(*addr)
	if err != nil {
		return usagef(stderr, "relay", "--addr %q: %v", *addr, err)
	}
	defer ln.Close()
	reg := prometheus.NewRegistry()
	relayMetrics(reg, r)
	ctx, stopMetrics := context.WithCancel(ctx)
	defer stopMetrics()
	waitMetrics, err := startMetrics(ctx, "relay", *metricsAddr, reg, stderr)
	if err != nil {
		return usagef(stderr, "relay", "%v", err)
	}
	fmt.Fprintf(stderr, "verishake relay: listening on http://%s (loss %v, dup %v, delay %v..%v)\n", ln.Addr(), *loss, *dup, lo, hi)
	if ready != nil {
		ready(ln.Addr().String())
	}
	err = trServeUntil(ctx, ln, r, r.Close, *limits)
	r.Close()
	stopMetrics()
	if merr := waitMetrics(); merr != nil && err == nil {
		err = merr
	}
	if err != nil {
		fmt.Fprintf(stderr, "verishake relay: %v\n", err)
		return exitUsage
	}
	st := r.Stats()
	fmt.Fprintf(stderr, "verishake relay: stopped; %d devices, %d accepted, %d lost, %d duplicated, %d delivered, %d expired, %d refused at the queue cap\n",
		st.Devices, st.Accepted, st.Lost, st.Duplicated, st.Delivered, st.Expired, st.Overflowed)
	return exitOK
}

// trParseDelay reads "D" or "MIN..MAX" as durations (a bare 0 is allowed).
func trParseDelay(s string) (lo, hi time.Duration, err error) {
	a, b, isRange := strings.Cut(s, "..")
	if lo, err = time.ParseDuration(a); err != nil {
		return 0, 0, err
	}
	hi = lo
	if isRange {
		if hi, err = time.ParseDuration(b); err != nil {
			return 0, 0, err
		}
	}
	if lo < 0 || hi < lo {
		return 0, 0, fmt.Errorf("want 0 <= MIN <= MAX")
	}
	return lo, hi, nil
}

// envDefault returns flag if set, else the environment variable env if
// set, else def.
func envDefault(flag, env, def string) string {
	if flag != "" {
		return flag
	}
	if v := os.Getenv(env); v != "" {
		return v
	}
	return def
}

// randomToken returns 128 random bits in hex, for a bearer token that only
// this process hands out.
func randomToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
