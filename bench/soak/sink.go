package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"

	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/transport"
)

// sinkBearer is the bearer token the server under test pushes with.
const sinkBearer = "soak-push-token"

// sink is an FCM-shaped messages:send endpoint that delivers each push to
// the in-process handshake waiting on its RegID, and answers 404 NOT_FOUND
// for a RegID nobody waits on, as FCM does for an unregistered token.
type sink struct {
	url string
	hs  *http.Server

	mu      sync.Mutex
	inboxes map[protocol.RegID]chan protocol.Message
}

func startSink() (*sink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &sink{url: "http://" + ln.Addr().String(), inboxes: map[protocol.RegID]chan protocol.Message{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/projects/{project}/messages:send", s.send)
	lim := transport.DefaultServeLimits()
	lim.MaxConns = 4096
	s.hs = lim.Server(mux)
	go func() { _ = s.hs.Serve(lim.Listener(ln)) }()
	return s, nil
}

func (s *sink) close() { _ = s.hs.Close() }

// open makes id's inbox; close it with drop.
func (s *sink) open(id protocol.RegID) <-chan protocol.Message {
	ch := make(chan protocol.Message, 16)
	s.mu.Lock()
	s.inboxes[id] = ch
	s.mu.Unlock()
	return ch
}

func (s *sink) drop(id protocol.RegID) {
	s.mu.Lock()
	delete(s.inboxes, id)
	s.mu.Unlock()
}

func (s *sink) send(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+sinkBearer {
		http.Error(w, `{"error":{"code":401,"status":"UNAUTHENTICATED","message":"wrong bearer"}}`, http.StatusUnauthorized)
		return
	}
	var req struct {
		Message struct {
			Token string            `json:"token"`
			Data  map[string]string `json:"data"`
		} `json:"message"`
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 16<<10))
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, `{"error":{"code":400,"status":"INVALID_ARGUMENT","message":"bad body"}}`, http.StatusBadRequest)
		return
	}
	n, err := strconv.ParseUint(req.Message.Token, 10, 64)
	p, derr := transport.DecodePushData(req.Message.Data)
	s.mu.Lock()
	ch := s.inboxes[protocol.RegID(n)]
	s.mu.Unlock()
	if err != nil || derr != nil || ch == nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"error":{"code":404,"status":"NOT_FOUND","message":"Requested entity was not found."}}`)
		return
	}
	select {
	case ch <- p.Message:
	default: // a handshake that stopped listening; the platform may lose it
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"name":"projects/soak/messages/1"}`)
}
