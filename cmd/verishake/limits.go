package main

import (
	"flag"

	"github.com/verishake/verishake/transport"
)

// addLimitFlags binds the HTTP limit flags of serve and relay to a copy of
// def and returns it; after parsing, check it with Validate.
func addLimitFlags(fs *flag.FlagSet, def transport.HTTPLimits) *transport.HTTPLimits {
	def.MaxConns = connLimit(def.MaxConns, openFileLimit())
	l := def
	fs.DurationVar(&l.ReadHeaderTimeout, "read-header-timeout", def.ReadHeaderTimeout, "longest a client may take to send a request's headers")
	fs.DurationVar(&l.ReadTimeout, "read-timeout", def.ReadTimeout, "longest a client may take to send a whole request, body included")
	fs.DurationVar(&l.WriteTimeout, "write-timeout", def.WriteTimeout, "longest a request may take to be handled and answered")
	fs.DurationVar(&l.IdleTimeout, "idle-timeout", def.IdleTimeout, "longest a keep-alive connection may wait for its next request")
	fs.IntVar(&l.MaxHeaderBytes, "max-header-bytes", def.MaxHeaderBytes, "largest request header block, in bytes")
	fs.IntVar(&l.MaxConns, "max-conns", def.MaxConns, "most connections open at once; more wait to be accepted (the default is at most 3/4 of ulimit -n)")
	return &l
}

// connLimit is the default connection limit under a descriptor limit of
// nofile (0: unknown): def, or three quarters of nofile when that is less,
// so that the store, the pushes and the listener keep descriptors to work
// with however many clients connect.
func connLimit(def int, nofile uint64) int {
	if nofile == 0 {
		return def
	}
	return int(max(1, min(uint64(def), nofile*3/4)))
}
