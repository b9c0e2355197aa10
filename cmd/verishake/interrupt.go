package main

import (
	"context"
	"os"
	"os/signal"
)

// interruptContext is the context check and sim run under: it ends on
// Ctrl-C (SIGINT), and the command then reports what it has so far. A
// variable, so that a test can interrupt a run at a point it chooses.
var interruptContext = func() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt)
}
