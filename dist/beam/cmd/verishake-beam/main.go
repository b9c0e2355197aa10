// Command verishake-beam runs `verishake check` on Apache Beam: the same
// exhaustive search, report, JSON and exit statuses, each breadth-first
// level a pipeline on Prism (in this process), on a portable job server
// (Prism's, Flink's, Spark's) or on Dataflow. See docs/distributed.md.
//
//	verishake-beam check [verishake check's bound flags] [--runner prism|universal|dataflow]
//	                     [--endpoint HOST:PORT] [--work PATH] [--partitions N] [-- BEAM OPTIONS]
//
// Exit status: 0 every property holds, 1 one is violated, 2 bad usage or
// input, 3 none violated but the search was cut short (unknown).
package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
)

// Exit statuses, verishake's.
const (
	exitOK        = 0
	exitViolation = 1
	exitUsage     = 2
	exitUnknown   = 3
)

func main() {
	// A worker a runner starts from this binary (Dataflow's, a Docker
	// environment's) is told so by Beam's flags, and beam.Init runs it.
	if len(os.Args) > 1 && os.Args[1] != "check" && os.Args[1] != "help" && os.Args[1] != "--help" && os.Args[1] != "-h" {
		flag.Parse()
		beam.Init()
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "--help" || args[0] == "-h" {
		fmt.Fprintln(stdout, "Usage: verishake-beam check [flags] [-- BEAM OPTIONS]   (verishake-beam check --help for the flags)")
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	if args[0] != "check" {
		fmt.Fprintf(stderr, "verishake-beam: unknown command %q: want check\n", args[0])
		return exitUsage
	}
	// Prism logs every job and stage at info; the report is what counts.
	slog.SetDefault(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	return runCheck(args[1:], stdout, stderr)
}

// usagef prints a one-line reason for bad usage or input and returns exit status 2.
func usagef(stderr io.Writer, format string, args ...any) int {
	fmt.Fprintf(stderr, "verishake-beam check: %s\n", fmt.Sprintf(format, args...))
	return exitUsage
}
