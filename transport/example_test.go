package transport_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"time"

	"net/http/httptest"

	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/transport"
)

// Example embeds the server side in a Go service: a Server is an
// http.Handler for POST /v1/hello and /v1/confirm1, answering through a
// Pusher. Here pushes land in a channel and the device is a bare
// protocol.Client; a service uses transport.FCMPusher and
// transport.OpenBoltStore, and its devices use transport.Device.
func Example() {
	h := protocol.Hardened().MustCompile()
	pushed := make(chan transport.Push, 8)
	srv, err := transport.NewServer(transport.ServerConfig{
		Handshake: h,
		Store:     transport.NewMemoryStore(), // transport.OpenBoltStore("sessions.db") to survive restarts
		Pusher: transport.PusherFunc(func(_ context.Context, p transport.Push) error {
			pushed <- p
			return nil
		}),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	hs := httptest.NewServer(srv) // a service: http.Server{Addr: ..., Handler: srv}
	defer hs.Close()

	dev := protocol.NewClient(42)
	now := protocol.Time(time.Now().UnixNano())
	post := func(path string, m protocol.Message) {
		frame, _ := protocol.EncodeMessage(m)
		resp, err := hs.Client().Post(hs.URL+path, "application/octet-stream", bytes.NewReader(frame))
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		fmt.Println(path, resp.Status)
	}
	post(transport.PathHello, dev.Start(h, now, protocol.CryptoTokens{}).Send)
	post(transport.PathConfirm1, dev.Handle(h, now, (<-pushed).Message).Send) // Validation in, Confirm1 out
	dev.Handle(h, now, (<-pushed).Message)                                    // Confirm2
	fmt.Println("device:", dev.State)

	cmd, err := srv.Issue(context.Background(), 42, "unlock")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("command", cmd.Seq, "executed:", dev.Handle(h, now, (<-pushed).Message).Err == nil)
	// Output:
	// /v1/hello 202 Accepted
	// /v1/confirm1 202 Accepted
	// device: Verified
	// command 1 executed: true
}
