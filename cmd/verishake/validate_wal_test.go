package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/transport"
)

// walStore wraps a Store: while refuse is set, Save fails; armed with
// die, its next Save ends the calling goroutine before writing, as a kill
// -9 ends a server there.
type walStore struct {
	transport.Store
	refuse, die atomic.Bool
}

func (s *walStore) Save(sl protocol.Slot) error {
	if s.die.Swap(false) {
		runtime.Goexit()
	}
	if s.refuse.Load() {
		return os.ErrPermission
	}
	return s.Store.Save(sl)
}

// TestValidateCountsRetractedAndUndoneSteps: a server whose store refuses
// a Hello's save retracts the step; one killed in a Hello's save, before
// the write, has traced a step it never stored, which validate undoes
// when the restarted server opens the session afresh. validate reports
// both, in --json and in text, with the undone step a warning.
func TestValidateCountsRetractedAndUndoneSteps(t *testing.T) {
	h := protocol.Hardened().MustCompile()
	store := &walStore{Store: transport.NewMemoryStore()}
	var file bytes.Buffer
	start := func() *transport.Server {
		tw, err := transport.NewTraceWriter(&file, h.Profile())
		require.NoError(t, err)
		srv, err := transport.NewServer(transport.ServerConfig{Handshake: h, Store: store, Tracer: tw,
			Pusher: transport.PusherFunc(func(context.Context, transport.Push) error { return nil })})
		require.NoError(t, err)
		t.Cleanup(func() { _ = srv.Close() })
		return srv
	}
	hello := func(srv *transport.Server, id protocol.RegID) (lived bool, err error) {
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, err = srv.Handle(context.Background(), protocol.Message{Kind: protocol.Hello, RegID: id, Tc: protocol.Token{byte(id)}}, 0)
			lived = true
		}()
		<-done
		return lived, err
	}

	srv := start()
	store.refuse.Store(true)
	_, err := hello(srv, 1)
	require.ErrorIs(t, err, transport.ErrStoreFailed)
	store.refuse.Store(false)
	store.die.Store(true)
	lived, _ := hello(srv, 2)
	require.False(t, lived, "killed in the save")
	require.NoError(t, srv.Close())
	srv = start()
	for id := range protocol.RegID(2) {
		lived, err := hello(srv, id+1)
		require.True(t, lived)
		require.NoError(t, err)
	}

	path := filepath.Join(t.TempDir(), "server.jsonl")
	require.NoError(t, os.WriteFile(path, file.Bytes(), 0o600))
	status, out, errOut := runCLI("validate", "--json", path)
	require.Equal(t, exitOK, status, errOut)
	var rep struct {
		OK        bool     `json:"ok"`
		Runs      int      `json:"runs"`
		Undone    int      `json:"undone"`
		Retracted int      `json:"retracted"`
		Warnings  []string `json:"warnings"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	require.True(t, rep.OK, out)
	require.Equal(t, 2, rep.Runs)
	require.Equal(t, 1, rep.Undone)
	require.Equal(t, 1, rep.Retracted)
	require.Len(t, rep.Warnings, 1)
	require.Contains(t, rep.Warnings[0], "server slot 2 replays from the state before its step at "+path+":")
	status, out, errOut = runCLI("validate", path)
	require.Equal(t, exitOK, status, errOut)
	require.Contains(t, out, "undone: 1 server steps traced before a restart and not stored (each is a warning)\n")
	require.Contains(t, out, "retracted: 1 server steps the session store refused, taken back by the server\n")
	require.Equal(t, 1, strings.Count(errOut, "verishake validate: warning: "), errOut)
}
