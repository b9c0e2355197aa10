package main

import (
	"bytes"
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/transport"
)

// client runs handshakes the way a device does, its pushes coming from the
// sink: the client machine, its retransmission timer, and one POST per
// upstream message, whose failures only the timer answers.
type client struct {
	h    *protocol.Handshake
	sink *sink
	hc   *http.Client
	next atomic.Uint64 // RegIDs: one fresh RegID per handshake
}

func newClient(s *sink, base protocol.RegID) *client {
	c := &client{h: protocol.Hardened().MustCompile(), sink: s,
		hc: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}}
	c.next.Store(uint64(base))
	return c
}

func wallNow() protocol.Time { return protocol.Time(time.Now().UnixNano()) }

// post sends m to server; the status, or 0 when the request failed.
func (c *client) post(server string, m protocol.Message) int {
	frame, err := protocol.EncodeMessage(m)
	if err != nil {
		return 0
	}
	path := transport.PathHello
	if m.Kind == protocol.Confirm1 {
		path = transport.PathConfirm1
	}
	resp, err := c.hc.Post(server+path, "application/octet-stream", bytes.NewReader(frame))
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// handshake runs one handshake under a fresh RegID until it is Verified or
// Failed (or ctx ends) and returns the client's final state.
func (c *client) handshake(ctx context.Context, server string) protocol.Client {
	id := protocol.RegID(c.next.Add(1))
	inbox := c.sink.open(id)
	defer c.sink.drop(id)
	cl := protocol.NewClient(id)
	out := cl.Start(c.h, wallNow(), protocol.CryptoTokens{})
	c.post(server, out.Send)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for cl.State != protocol.ClientVerified && cl.State != protocol.ClientFailed {
		timer.Reset(time.Duration(cl.Deadline - wallNow()))
		select {
		case m := <-inbox:
			out = cl.Handle(c.h, wallNow(), m)
		case <-timer.C:
			out = cl.Timeout(c.h, wallNow(), protocol.CryptoTokens{})
		case <-ctx.Done():
			return cl
		}
		if out.Err == nil && out.Send.Kind != 0 {
			c.post(server, out.Send)
		}
	}
	return cl
}
