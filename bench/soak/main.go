// Command soak runs verishake serve under faults, as a separate process
// that it kills, restarts and loads, and prints one table of what it
// measured. bench/soak.sh builds it and runs it; see there for the phases.
//
// Every address is on loopback. The push platform is an in-process sink
// shaped like FCM's messages:send that hands each push to the handshake
// waiting for it, so that what is measured is the server and its store.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/verishake/verishake/protocol"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bin := fs.String("verishake", "", "the verishake binary to run as the server (required)")
	dir := fs.String("dir", "", "scratch directory for stores and logs (required)")
	crashTarget := fs.Int("crash-handshakes", 2000, "crash campaign: verified handshakes to reach while killing the server")
	crashKills := fs.Duration("kill-every", 800*time.Millisecond, "crash campaign: longest gap between two kill -9 (each gap is uniform from a fifth of it)")
	load := fs.Duration("load", 60*time.Second, "sustained load: how long each store is loaded")
	workers := fs.Int("workers", 64, "handshakes in flight in the crash campaign and the sustained load")
	forged := fs.Int("forged", 1100, "flood: forged Hellos sent at once")
	legit := fs.Int("legit", 123, "flood: legitimate handshakes alongside, in three rounds")
	rates := fs.String("flood-rates", "200,960", "steady floods: forged Hellos per second, one phase per rate (empty: none)")
	floodFor := fs.Duration("flood-for", 30*time.Second, "steady floods: how long each lasts")
	floodLegit := fs.Int("flood-legit", 40, "steady floods: legitimate handshakes alongside each")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *bin == "" || *dir == "" {
		fmt.Fprintln(stderr, "soak: --verishake and --dir are required")
		return 2
	}
	floodRates, err := parseRates(*rates)
	if err != nil {
		fmt.Fprintf(stderr, "soak: --flood-rates %q: %v\n", *rates, err)
		return 2
	}
	if *floodLegit < 1 {
		fmt.Fprintf(stderr, "soak: --flood-legit %d: want at least 1\n", *floodLegit)
		return 2
	}
	sink, err := startSink()
	if err != nil {
		fmt.Fprintf(stderr, "soak: push sink: %v\n", err)
		return 2
	}
	defer sink.close()
	env := &env{bin: *bin, dir: *dir, sink: sink, log: stderr}
	ctx := context.Background()

	var rows []row
	ok := true
	phase := func(name string, f func() ([]row, error)) {
		fmt.Fprintf(stderr, "soak: %s ...\n", name)
		start := time.Now()
		r, err := f()
		rows = append(rows, r...)
		if err != nil {
			ok = false
			fmt.Fprintf(stderr, "soak: %s: %v\n", name, err)
			rows = append(rows, row{name, "error", err.Error(), false})
		}
		fmt.Fprintf(stderr, "soak: %s done in %v\n", name, time.Since(start).Round(time.Second))
	}
	var lateReplays func() ([]row, error)
	phase("crash campaign", func() (rows []row, err error) {
		rows, lateReplays, err = crashCampaign(ctx, env, filepath.Join(*dir, "crash.db"), *crashTarget, *workers, *crashKills)
		return rows, err
	})
	phase("sustained load, memory", func() ([]row, error) { return sustainedLoad(ctx, env, "", *load, *workers) })
	phase("sustained load, bbolt", func() ([]row, error) {
		return sustainedLoad(ctx, env, filepath.Join(*dir, "load.db"), *load, *workers)
	})
	phase("forged-Hello flood", func() ([]row, error) {
		return flood(ctx, env, filepath.Join(*dir, "flood.db"), *forged, *legit)
	})
	for i, rate := range floodRates {
		phase(fmt.Sprintf("forged-Hello flood at %d/s", rate), func() ([]row, error) {
			return rateFlood(ctx, env, filepath.Join(*dir, fmt.Sprintf("flood-%d.db", rate)), rate, *floodFor, *floodLegit,
				protocol.RegID(40_000_000+10_000_000*i))
		})
	}
	if lateReplays != nil {
		phase("crash campaign's replays past the lifetime", lateReplays)
	}

	fmt.Fprintln(stdout, "| phase | figure | value | holds |")
	fmt.Fprintln(stdout, "|---|---|---|---|")
	for _, r := range rows {
		mark := "yes"
		if !r.holds {
			mark, ok = "NO", false
		}
		fmt.Fprintf(stdout, "| %s | %s | %s | %s |\n", r.phase, r.figure, r.value, mark)
	}
	if !ok {
		return 1
	}
	return 0
}

// row is one line of the table: a figure measured, and whether it is
// within what the service promises (a plain measurement always holds).
type row struct {
	phase, figure, value string
	holds                bool
}

func measured(phase, figure, format string, args ...any) row {
	return row{phase, figure, fmt.Sprintf(format, args...), true}
}

func must(phase, figure string, holds bool, format string, args ...any) row {
	return row{phase, figure, fmt.Sprintf(format, args...), holds}
}

// env is what every phase shares.
type env struct {
	bin, dir string
	sink     *sink
	log      io.Writer
}

// parseRates reads a comma-separated list of positive rates.
func parseRates(s string) ([]int, error) {
	var rates []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive number of Hellos per second", f)
		}
		rates = append(rates, n)
	}
	return rates, nil
}
