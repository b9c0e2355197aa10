package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/protocol"
)

// errSaveDiskFull is what a failing store reports: an OS error with the file's
// path, the kind of detail a client must never see.
var errSaveDiskFull = errors.New("session store /var/lib/verishake/sessions.db: save 7: write: no space left on device")

// faultyStore wraps a Store; while failing is set, Load or Save (as
// chosen) returns errSaveDiskFull.
type faultyStore struct {
	Store
	failLoad, failSave atomic.Bool
}

func (f *faultyStore) Load(id protocol.RegID) (protocol.Slot, bool, error) {
	if f.failLoad.Load() {
		return protocol.Slot{}, false, errSaveDiskFull
	}
	return f.Store.Load(id)
}

func (f *faultyStore) Save(sl protocol.Slot) error {
	if f.failSave.Load() {
		return errSaveDiskFull
	}
	return f.Store.Save(sl)
}

// slogCapture is a slog.Handler that keeps every record, for tests that
// check what a server logs.
type slogCapture struct {
	mu      sync.Mutex
	records []slog.Record
}

func (l *slogCapture) Enabled(context.Context, slog.Level) bool { return true }
func (l *slogCapture) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.records = append(l.records, r.Clone())
	return nil
}
func (l *slogCapture) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *slogCapture) WithGroup(string) slog.Handler      { return l }

// lines returns each record as "LEVEL msg k=v ...".
func (l *slogCapture) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, r := range l.records {
		var b strings.Builder
		fmt.Fprintf(&b, "%v %s", r.Level, r.Message)
		r.Attrs(func(a slog.Attr) bool {
			fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
			return true
		})
		out = append(out, b.String())
	}
	return out
}

// TestServerErrorBodiesLeakNothing checks that a client learns a stable,
// short reason and nothing of the store's path, the OS error or the push
// platform's answer, and that a push refused because the RegID is not
// registered gets the same answer as one that went out.
func TestServerErrorBodiesLeakNothing(t *testing.T) {
	store := &faultyStore{Store: NewMemoryStore()}
	ts := startServer(t, ServerConfig{Store: store})
	hello := func(id protocol.RegID) protocol.Message {
		return protocol.Message{Kind: protocol.Hello, RegID: id, Tc: protocol.Token{byte(id)}}
	}

	store.failSave.Store(true)
	code, body := ts.post(t, PathHello, hello(1))
	require.Equal(t, http.StatusInternalServerError, code)
	require.Equal(t, ReasonStoreFailed+"\n", body)
	store.failSave.Store(false)

	store.failLoad.Store(true)
	code, body = ts.post(t, PathHello, hello(1))
	require.Equal(t, http.StatusInternalServerError, code)
	require.Equal(t, ReasonStoreFailed+"\n", body)
	store.failLoad.Store(false)

	// The platform is down: a 502 whose body says only that.
	ts.pusher.err = fmt.Errorf("push to 2: %w", errors.New("dial tcp 10.1.2.3:443: connection refused"))
	code, body = ts.post(t, PathHello, hello(2))
	require.Equal(t, http.StatusBadGateway, code)
	require.Equal(t, ReasonNotPushed+"\n", body)

	// The platform does not know the RegID: the client is answered as if
	// the push went out, so the status says nothing about registration.
	ts.pusher.err = fmt.Errorf("push to 3: %w", &PushError{StatusCode: http.StatusNotFound, Status: "NOT_FOUND",
		Message: `Requested entity was not found: token "3" is not registered (UNREGISTERED)`})
	code, body = ts.post(t, PathHello, hello(3))
	require.Equal(t, http.StatusAccepted, code, body)
	require.Empty(t, body)
	require.Equal(t, uint64(2), ts.Stats().PushFailed, "both refused pushes are counted")
}

// TestServerLogsAndCountsStoreFailures runs requests, a command and timer
// expiries against a store that fails, and checks that every failure is
// one structured error record naming the operation and the RegID, and is
// counted.
func TestServerLogsAndCountsStoreFailures(t *testing.T) {
	p := protocol.Hardened()
	clock := newFakeClock()
	store := &faultyStore{Store: NewMemoryStore()}
	logs := &slogCapture{}
	ts := startServer(t, ServerConfig{Handshake: p.MustCompile(), Store: store, Now: clock.Now, Log: slog.New(logs)})

	// RegID 1 holds a pending session, whose expiry will fail to save.
	code, _ := ts.post(t, PathHello, protocol.Message{Kind: protocol.Hello, RegID: 1, Tc: protocol.Token{1}})
	require.Equal(t, http.StatusAccepted, code)

	store.failSave.Store(true)
	const hellos = 20
	for i := range hellos {
		code, _ := ts.post(t, PathHello, protocol.Message{Kind: protocol.Hello, RegID: protocol.RegID(100 + i), Tc: protocol.Token{1}})
		require.Equal(t, http.StatusInternalServerError, code)
	}
	store.failLoad.Store(true)
	_, err := ts.Issue(context.Background(), 1, "ring")
	require.ErrorIs(t, err, ErrStoreFailed)
	store.failLoad.Store(false)

	require.Equal(t, uint64(hellos+1), ts.Stats().StoreFailed)
	lines := logs.lines()
	require.Len(t, lines, hellos+1, "one record per failure: %q", lines)
	for i, l := range lines[:hellos] {
		require.Contains(t, l, "ERROR session store failed op=save")
		require.Contains(t, l, fmt.Sprintf("regid=%d", 100+i))
		require.Contains(t, l, "no space left on device")
	}
	require.Contains(t, lines[hellos], "op=load regid=1")

	// The timer's expiry of RegID 1 fails to save too: logged and counted,
	// and the session is still counted as half-open, as it still is.
	clock.Advance(p.Lifetime)
	ts.timers.arm(1, ts.now()-1) // wake the timer now rather than in a minute
	waitFor(t, 5*time.Second, "the failed expiry to be logged", func() bool { return ts.Stats().StoreFailed == hellos+2 })
	require.Contains(t, logs.lines()[hellos+1], "op=expire regid=1")
	require.Equal(t, 1, ts.HalfOpen())
}
