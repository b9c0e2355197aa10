package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/transport"
)

func init() {
	register(command{
		name:    "serve",
		usage:   "[--addr HOST:PORT] [--store FILE.db] [--push URL] [--project ID] [--bearer T] [--profile P] [--trace FILE] [--metrics HOST:PORT] [--evict-after D] [limits]",
		summary: "run the server side of the handshake over HTTP, answering through an FCM-shaped push endpoint",
		run: untilSignal(func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
			return runServe(ctx, args, stdout, stderr, nil)
		}),
	})
}

// untilSignal turns a long-running command into a command's run function:
// its context ends on SIGINT or SIGTERM, so that it shuts down cleanly.
func untilSignal(run func(ctx context.Context, args []string, stdout, stderr io.Writer) int) func([]string, io.Writer, io.Writer) int {
	return func(args []string, stdout, stderr io.Writer) int {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return run(ctx, args, stdout, stderr)
	}
}

// runServe is serve with its context and a hook that learns the bound
// address, so that tests can run it on 127.0.0.1:0 and stop it.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer, ready func(addr string)) int {
	fs := newFlags("serve", stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	storePath := fs.String("store", "", "bbolt file keeping sessions across restarts (default: in memory)")
	push := fs.String("push", "http://127.0.0.1:8090", "base `URL` of the FCM HTTP v1 API or of a verishake relay")
	project := fs.String("project", "verishake", "Firebase project id in the push path")
	bearer := fs.String("bearer", "", "bearer token for the push API (default: $VERISHAKE_PUSH_BEARER, else \"local\")")
	profileName := fs.String("profile", "hardened", "profile: patent or hardened")
	tracePath := fs.String("trace", "", "write every step to FILE as JSON Lines (the simulator's trace schema)")
	metricsAddr := fs.String("metrics", "", "serve Prometheus metrics at http://HOST:PORT/metrics (default: off)")
	evictAfter := fs.Duration("evict-after", 0, "at a full half-open cap, a Hello evicts the oldest pending session once it is this old (0: the profile's Backoff, 1s on hardened; negative: never, refuse with 429)")
	limits := addLimitFlags(fs, transport.DefaultServeLimits())
	if status, ok := parseFlags(fs, args, 0, stderr); !ok {
		return status
	}
	if err := limits.Validate(); err != nil {
		return usagef(stderr, "serve", "--%v", err)
	}
	p, err := protocol.ProfileByName(*profileName)
	if err != nil {
		return usagef(stderr, "serve", "--profile: %v", err)
	}
	if err := trCheckURL(*push); err != nil {
		return usagef(stderr, "serve", "--push %q: %v", *push, err)
	}
	tok := envDefault(*bearer, "VERISHAKE_PUSH_BEARER", "local")
	ln, err := trListen(*addr)
	if err != nil {
		return usagef(stderr, "serve", "--addr %q: %v", *addr, err)
	}
	defer ln.Close()

	var store transport.Store = transport.NewMemoryStore()
	if *storePath != "" {
		bs, err := transport.OpenBoltStore(*storePath)
		if err != nil {
			return usagef(stderr, "serve", "--store: %v", err)
		}
		store = bs
	}
	defer store.Close()
	reg := prometheus.NewRegistry()
	if *metricsAddr != "" {
		store = newStoreMetrics(reg).instrument(store)
	}

	var tracer transport.Tracer
	var tw *transport.TraceWriter
	if *tracePath != "" {
		if tw, err = transport.OpenTraceFile(*tracePath, p, slog.New(slog.NewTextHandler(stderr, nil))); err != nil {
			return usagef(stderr, "serve", "--trace: %v", err)
		}
		defer tw.Close() // on an early return; a second Close does nothing
		tracer = tw
	}
	srv, err := transport.NewServer(transport.ServerConfig{
		Handshake:  p.MustCompile(),
		Store:      store,
		Pusher:     &transport.FCMPusher{BaseURL: *push, Project: *project, Auth: transport.StaticBearer(tok), TTL: p.Lifetime},
		Tracer:     tracer,
		Log:        slog.New(slog.NewTextHandler(stderr, nil)).With("cmd", "serve"),
		EvictAfter: *evictAfter,
	})
	if err != nil {
		return usagef(stderr, "serve", "%v", err)
	}
	serverMetrics(reg, srv)
	ctx, stopMetrics := context.WithCancel(ctx)
	defer stopMetrics()
	waitMetrics, err := startMetrics(ctx, "serve", *metricsAddr, reg, stderr)
	if err != nil {
		_ = srv.Close()
		return usagef(stderr, "serve", "%v", err)
	}
	where := "memory"
	if *storePath != "" {
		where = *storePath
	}
	fmt.Fprintf(stderr, "verishake serve: listening on http://%s (profile %s, store %s, push %s)\n", ln.Addr(), p.Name, where, *push)
	if ready != nil {
		ready(ln.Addr().String())
	}
	err = trServeUntil(ctx, ln, srv, nil, *limits)
	stopMetrics()
	if merr := waitMetrics(); merr != nil && err == nil {
		err = merr
	}
	_ = srv.Close()
	if tw != nil {
		if terr := tw.Close(); terr != nil && err == nil {
			err = terr
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "verishake serve: %v\n", err)
		return exitUsage
	}
	st := srv.Stats()
	fmt.Fprintf(stderr, "verishake serve: stopped; accepted %d, rejected %d, push failures %d, store failures %d, expired %d\n",
		st.Accepted, st.Rejected, st.PushFailed, st.StoreFailed, st.Expired)
	return exitOK
}

// trListen checks that addr is HOST:PORT before listening, so that a typo
// is reported as such rather than as whatever the resolver makes of it.
func trListen(addr string) (net.Listener, error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, err
	}
	return net.Listen("tcp", addr)
}

func trCheckURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return errors.New("want an http:// or https:// URL with a host")
	}
	return nil
}

// trServeUntil serves h on ln under limits until ctx ends, then shuts
// down: listeners close, onShutdown runs (a relay ends its long-polls
// there), and requests in progress get five seconds to finish.
func trServeUntil(ctx context.Context, ln net.Listener, h http.Handler, onShutdown func(), limits transport.HTTPLimits) error {
	hs := limits.Server(h)
	ln = limits.Listener(ln)
	if onShutdown != nil {
		hs.RegisterOnShutdown(onShutdown)
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := hs.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		// A request still running after the grace period (a push to a peer
		// that is shutting down too, say) is cut off: stopping is the job.
		err = hs.Close()
	}
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}
