package transport

import (
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// HTTPLimits bounds what one client can hold of an HTTP server: how long it
// may take to send a request, to read an answer, to sit idle between
// requests, how large its headers may be, and how many connections all
// clients together may keep open. Without them a client dripping a body
// one byte at a time, or a crowd of idle connections, holds descriptors
// until the process runs out and legitimate requests time out.
type HTTPLimits struct {
	// ReadHeaderTimeout bounds reading a request's headers, from the
	// connection's start or the end of its previous request.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included.
	ReadTimeout time.Duration
	// WriteTimeout bounds handling a request and writing its answer, from
	// the end of its headers. A relay's must exceed its longest long-poll.
	WriteTimeout time.Duration
	// IdleTimeout bounds a keep-alive connection's wait for its next request.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds a request's header block.
	MaxHeaderBytes int
	// MaxConns bounds the connections open at once; a further one waits in
	// the kernel's accept queue until one closes. Keep it below the
	// process's descriptor limit (ulimit -n), with room for the store and
	// outgoing pushes.
	MaxConns int
}

// DefaultServeLimits are the limits of `verishake serve`: a handshake
// request is one frame of at most 1,060 bytes and is answered once its step
// is stored and pushed (a push times out after 5 s).
func DefaultServeLimits() HTTPLimits {
	return HTTPLimits{
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
		MaxConns:          512,
	}
}

// DefaultRelayLimits are the limits of `verishake relay`: as serve's, but
// an answer may be a long-poll of up to 30 s.
func DefaultRelayLimits() HTTPLimits {
	l := DefaultServeLimits()
	l.WriteTimeout = 40 * time.Second
	return l
}

// Validate reports the first limit that is not positive, naming it as its
// flag is named.
func (l HTTPLimits) Validate() error {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"read-header-timeout", l.ReadHeaderTimeout}, {"read-timeout", l.ReadTimeout},
		{"write-timeout", l.WriteTimeout}, {"idle-timeout", l.IdleTimeout},
	} {
		if d.v <= 0 {
			return fmt.Errorf("%s %v: want a positive duration", d.name, d.v)
		}
	}
	if l.MaxHeaderBytes < 1 {
		return fmt.Errorf("max-header-bytes %d: want at least 1", l.MaxHeaderBytes)
	}
	if l.MaxConns < 1 {
		return fmt.Errorf("max-conns %d: want at least 1", l.MaxConns)
	}
	return nil
}

// Server returns an http.Server for h with the limits' timeouts and header
// bound. The connection limit is the listener's: see Listener.
func (l HTTPLimits) Server(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		ReadTimeout:       l.ReadTimeout,
		WriteTimeout:      l.WriteTimeout,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    l.MaxHeaderBytes,
	}
}

// Listener returns ln limited to MaxConns connections open at once.
func (l HTTPLimits) Listener(ln net.Listener) net.Listener { return LimitListener(ln, l.MaxConns) }

// LimitListener returns a listener that holds at most n accepted
// connections open at once: Accept waits for one of them to close.
func LimitListener(ln net.Listener, n int) net.Listener {
	return &limitListener{Listener: ln, slots: make(chan struct{}, n), closed: make(chan struct{})}
}

type limitListener struct {
	net.Listener
	slots     chan struct{} // one token per open connection
	closed    chan struct{}
	closeOnce sync.Once
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.closed:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.slots }}, nil
}

func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

// open returns the number of accepted connections not yet closed.
func (l *limitListener) open() int { return len(l.slots) }

type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
