package main

import (
	"flag"

	"github.com/verishake/verishake/transport"
)

// addLimitFlags binds the HTTP limit flags of serve and relay to a copy of
// def and returns it; after parsing, check it with Validate.
func addLimitFlags(fs *flag.FlagSet, def transport.HTTPLimits) *transport.HTTPLimits {
	l := def
	fs.DurationVar(&l.ReadHeaderTimeout, "read-header-timeout", def.ReadHeaderTimeout, "longest a client may take to send a request's headers")
	fs.DurationVar(&l.ReadTimeout, "read-timeout", def.ReadTimeout, "longest a client may take to send a whole request, body included")
	fs.DurationVar(&l.WriteTimeout, "write-timeout", def.WriteTimeout, "longest a request may take to be handled and answered")
	fs.DurationVar(&l.IdleTimeout, "idle-timeout", def.IdleTimeout, "longest a keep-alive connection may wait for its next request")
	fs.IntVar(&l.MaxHeaderBytes, "max-header-bytes", def.MaxHeaderBytes, "largest request header block, in bytes")
	fs.IntVar(&l.MaxConns, "max-conns", def.MaxConns, "most connections open at once (keep it below ulimit -n); more wait to be accepted")
	return &l
}
