package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/verishake/verishake/transport"
)

// metricsPath is where the Prometheus text endpoint answers.
const metricsPath = "/metrics"

// startMetrics listens on addr (the --metrics flag of cmd) and serves reg
// there until ctx ends; wait returns once it has shut down. An empty addr
// serves nothing.
func startMetrics(ctx context.Context, cmd, addr string, reg *prometheus.Registry, stderr io.Writer) (wait func() error, err error) {
	if addr == "" {
		return func() error { return nil }, nil
	}
	ln, err := trListen(addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics %q: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+metricsPath, promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: nil}))
	fmt.Fprintf(stderr, "verishake %s: metrics on http://%s%s\n", cmd, ln.Addr(), metricsPath)
	errc := make(chan error, 1)
	go func() { errc <- trServeUntil(ctx, ln, mux, nil, transport.DefaultServeLimits()) }()
	return sync.OnceValue(func() error { return <-errc }), nil
}

// collector turns a snapshot function into a prometheus.Collector: every
// scrape reads the counters the server or relay already keeps, so serving
// metrics costs nothing between scrapes.
type collector struct {
	descs   []*prometheus.Desc
	collect func(ch chan<- prometheus.Metric)
}

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) { c.collect(ch) }

// serverMetrics registers srv's counters on reg.
func serverMetrics(reg *prometheus.Registry, srv *transport.Server) {
	handshakes := prometheus.NewDesc("verishake_handshakes_total",
		"Handshakes by outcome: verified (the server's Commit), expired (half-open past its lifetime), refused_cap (a Hello turned away at the half-open cap), evicted (half-open, ended early to make room for a Hello at the cap).",
		[]string{"outcome"}, nil)
	rejections := prometheus.NewDesc("verishake_rejections_total",
		"Upstream requests turned down, by reason: the machine's verdict, or malformed, oversized, no_route before it.",
		[]string{"reason"}, nil)
	halfOpen := prometheus.NewDesc("verishake_half_open_sessions", "Sessions awaiting Confirm1.", nil, nil)
	pushFailed := prometheus.NewDesc("verishake_push_failures_total", "Answers and commands stored but not taken by the push platform.", nil, nil)
	undelivered := prometheus.NewDesc("verishake_commands_undelivered_total", "Commands numbered and stored that the push platform did not take.", nil, nil)
	expired := prometheus.NewDesc("verishake_sessions_expired_total", "Expiries that ended a session, pending or verified.", nil, nil)
	reg.MustRegister(collector{
		descs: []*prometheus.Desc{handshakes, rejections, halfOpen, pushFailed, undelivered, expired},
		collect: func(ch chan<- prometheus.Metric) {
			st := srv.Stats()
			ch <- prometheus.MustNewConstMetric(handshakes, prometheus.CounterValue, float64(st.Verified), "verified")
			ch <- prometheus.MustNewConstMetric(handshakes, prometheus.CounterValue, float64(st.ExpiredHalfOpen), "expired")
			ch <- prometheus.MustNewConstMetric(handshakes, prometheus.CounterValue, float64(st.Rejections["session_cap"]), "refused_cap")
			ch <- prometheus.MustNewConstMetric(handshakes, prometheus.CounterValue, float64(st.Evicted), "evicted")
			for reason, n := range st.Rejections {
				ch <- prometheus.MustNewConstMetric(rejections, prometheus.CounterValue, float64(n), reason)
			}
			ch <- prometheus.MustNewConstMetric(halfOpen, prometheus.GaugeValue, float64(st.HalfOpen))
			ch <- prometheus.MustNewConstMetric(pushFailed, prometheus.CounterValue, float64(st.PushFailed))
			ch <- prometheus.MustNewConstMetric(undelivered, prometheus.CounterValue, float64(st.CommandsUndelivered))
			ch <- prometheus.MustNewConstMetric(expired, prometheus.CounterValue, float64(st.Expired))
		},
	})
}

// relayMetrics registers r's counters on reg.
func relayMetrics(reg *prometheus.Registry, r *transport.Relay) {
	queued := prometheus.NewDesc("verishake_relay_queued_messages", "Messages waiting in all devices' queues.", nil, nil)
	overflows := prometheus.NewDesc("verishake_relay_overflows_total", "Sends refused with 429 because the device's queue was full.", nil, nil)
	devices := prometheus.NewDesc("verishake_relay_devices", "Registered devices.", nil, nil)
	messages := prometheus.NewDesc("verishake_relay_messages_total",
		"Messages by fate: accepted (answered 200), lost and duplicated (the fault model), delivered (copies polled), expired (TTL over).",
		[]string{"fate"}, nil)
	refused := prometheus.NewDesc("verishake_relay_refused_total", "Sends and registrations answered with an error.", nil, nil)
	reg.MustRegister(collector{
		descs: []*prometheus.Desc{queued, overflows, devices, messages, refused},
		collect: func(ch chan<- prometheus.Metric) {
			st := r.Stats()
			ch <- prometheus.MustNewConstMetric(queued, prometheus.GaugeValue, float64(st.Queued))
			ch <- prometheus.MustNewConstMetric(overflows, prometheus.CounterValue, float64(st.Overflowed))
			ch <- prometheus.MustNewConstMetric(devices, prometheus.GaugeValue, float64(st.Devices))
			for fate, n := range map[string]uint64{"accepted": st.Accepted, "lost": st.Lost, "duplicated": st.Duplicated,
				"delivered": st.Delivered, "expired": st.Expired} {
				ch <- prometheus.MustNewConstMetric(messages, prometheus.CounterValue, float64(n), fate)
			}
			ch <- prometheus.MustNewConstMetric(refused, prometheus.CounterValue, float64(st.Refused))
		},
	})
}
