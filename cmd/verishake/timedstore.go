package main

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/transport"
)

// storeMetrics are the session store's latency and failures, by operation.
type storeMetrics struct {
	seconds  *prometheus.HistogramVec
	failures *prometheus.CounterVec
}

func newStoreMetrics(reg *prometheus.Registry) *storeMetrics {
	m := &storeMetrics{
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "verishake_store_seconds",
			Help: "Latency of session store operations: load, save (one slot, durable), save_batch (an expiry batch, one durable write).",
			// From a memory load (µs) to a bbolt batch under load (tens of ms).
			Buckets: prometheus.ExponentialBuckets(1e-5, 4, 10),
		}, []string{"op"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "verishake_store_failures_total",
			Help: "Session store operations that returned an error, by operation.",
		}, []string{"op"}),
	}
	reg.MustRegister(m.seconds, m.failures)
	for _, op := range []string{"load", "save", "save_batch"} {
		m.seconds.WithLabelValues(op)
		m.failures.WithLabelValues(op)
	}
	return m
}

func (m *storeMetrics) observe(op string, start time.Time, err error) {
	m.seconds.WithLabelValues(op).Observe(time.Since(start).Seconds())
	if err != nil {
		m.failures.WithLabelValues(op).Inc()
	}
}

// instrument wraps s so that every operation is timed and every failure
// counted. A store that saves in batches still does through the wrapper.
func (m *storeMetrics) instrument(s transport.Store) transport.Store {
	t := &timedStore{Store: s, m: m}
	if bs, ok := s.(transport.BatchSaver); ok {
		return &timedBatchStore{timedStore: t, batch: bs}
	}
	return t
}

type timedStore struct {
	transport.Store
	m *storeMetrics
}

func (t *timedStore) Load(id protocol.RegID) (protocol.Slot, bool, error) {
	start := time.Now()
	sl, ok, err := t.Store.Load(id)
	t.m.observe("load", start, err)
	return sl, ok, err
}

func (t *timedStore) Save(sl protocol.Slot) error {
	start := time.Now()
	err := t.Store.Save(sl)
	t.m.observe("save", start, err)
	return err
}

type timedBatchStore struct {
	*timedStore
	batch transport.BatchSaver
}

func (t *timedBatchStore) SaveSlots(sls []protocol.Slot) error {
	start := time.Now()
	err := t.batch.SaveSlots(sls)
	t.m.observe("save_batch", start, err)
	return err
}
