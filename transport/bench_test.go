package transport

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verishake/verishake/protocol"
)

// BenchmarkHTTPHandshake runs whole handshakes against a Server over
// loopback HTTP: Hello and Confirm1 are real POSTs of real frames, the
// answers come back through an in-process Pusher (the push platform is not
// what is measured). It reports handshakes per second and the 99th
// percentile of one handshake's latency, for each store.
//
//	go test -run '^$' -bench HTTPHandshake -benchtime 20000x ./transport/
func BenchmarkHTTPHandshake(b *testing.B) {
	b.Run("store=memory", func(b *testing.B) { benchHandshake(b, NewMemoryStore()) })
	b.Run("store=bbolt", func(b *testing.B) {
		s, err := OpenBoltStore(filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		benchHandshake(b, s)
	})
}

// benchPusher hands each push to the waiting client by RegID.
type benchPusher struct{ inbox sync.Map } // RegID → chan protocol.Message

func (p *benchPusher) Push(_ context.Context, m Push) error {
	if ch, ok := p.inbox.Load(m.Message.RegID); ok {
		ch.(chan protocol.Message) <- m.Message
	}
	return nil
}

func benchHandshake(b *testing.B, store Store) {
	h := protocol.Hardened().MustCompile()
	pusher := &benchPusher{}
	srv, err := NewServer(ServerConfig{Handshake: h, Store: store, Pusher: pusher})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	hs := httptest.NewServer(srv)
	defer hs.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: 256, MaxIdleConns: 256}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	post := func(path string, m protocol.Message) error {
		frame, err := protocol.EncodeMessage(m)
		if err != nil {
			return err
		}
		resp, err := client.Post(hs.URL+path, "application/octet-stream", bytes.NewReader(frame))
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			b.Errorf("%s: %s", path, resp.Status)
		}
		return nil
	}
	var next atomic.Uint64
	var mu sync.Mutex
	var lat []time.Duration
	// Concurrency is what lets bbolt batch: 32 handshakes in flight per
	// core, as a service has many clients at once.
	b.SetParallelism(32)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		inbox := make(chan protocol.Message, 4)
		for pb.Next() {
			id := protocol.RegID(next.Add(1))
			pusher.inbox.Store(id, inbox)
			t0 := time.Now()
			c := protocol.NewClient(id)
			now := protocol.Time(t0.UnixNano())
			if err := post(PathHello, c.Start(h, now, protocol.CryptoTokens{}).Send); err != nil {
				b.Error(err)
				return
			}
			out := c.Handle(h, now, <-inbox)
			if err := post(PathConfirm1, out.Send); err != nil {
				b.Error(err)
				return
			}
			if out := c.Handle(h, now, <-inbox); out.Err != nil || c.State != protocol.ClientVerified {
				b.Errorf("device %d: %v in %v", id, out.Err, c.State)
				return
			}
			mine = append(mine, time.Since(t0))
			pusher.inbox.Delete(id)
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "handshakes/s")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(0, "ns/op") // per-op time misleads for a parallel, latency-bound loop
}
