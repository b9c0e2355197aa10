// Command verishake checks the client-token / server-token handshake of
// patent CN104038490: exhaustively, by simulation and under attack.
//
// Usage:
//
//	verishake <command> [flags]
//
// Run `verishake help` for the commands. Exit status: 0 every property
// holds, 1 a property is violated, 2 bad usage or bad input, 3 no property
// violated but a search cut short (verdicts unknown).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// Exit statuses, the CLI contract (README.md).
const (
	exitOK        = 0
	exitViolation = 1
	exitUsage     = 2
	// exitUnknown: no property is violated, but a search was cut short
	// before it finished, so some verdict is unknown. Never a pass.
	exitUnknown = 3
)

// command is one subcommand. Each lives in its own file and registers itself.
type command struct {
	name    string
	usage   string // the flags line, e.g. "[--machine client|server]"
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

var commands []command

func register(c command) { commands = append(commands, c) }

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 1 && args[0] == "help" {
		return helpCommand(args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printHelp(stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	i := slices.IndexFunc(commands, func(c command) bool { return c.name == args[0] })
	if i < 0 {
		fmt.Fprintf(stderr, "verishake: unknown command %q (run 'verishake help')\n", args[0])
		return exitUsage
	}
	return commands[i].run(args[1:], stdout, stderr)
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "verishake checks the client-token / server-token push handshake (patent CN104038490).")
	fmt.Fprintln(w, "\nUsage: verishake <command> [flags]\n\nCommands:")
	sorted := slices.Clone(commands)
	slices.SortFunc(sorted, func(a, b command) int { return strings.Compare(a.name, b.name) })
	for _, c := range sorted {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'verishake help <command>' or 'verishake <command> --help' for a command's flags.")
	fmt.Fprintln(w, "Exit status: 0 all properties hold, 1 a property is violated, 2 bad usage or input,")
	fmt.Fprintln(w, "3 no property violated but a search was cut short (verdicts unknown, never a pass).")
}

// newFlags returns a flag set for the registered command name that reports
// errors instead of exiting and prints the command's usage on --help.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	var c command
	if i := slices.IndexFunc(commands, func(c command) bool { return c.name == name }); i >= 0 {
		c = commands[i]
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: verishake %s %s\n\n%s\n\nFlags (each may come before or after the arguments):\n", c.name, c.usage, c.summary)
		printFlagDefaults(stderr, fs)
	}
	return fs
}

// parseFlags parses args into fs. On --help it prints the usage (status 0);
// on bad flags it prints one line naming the flag (status 2). maxArgs bounds
// the positional arguments left after the flags (-1: any number). ok is
// false when the caller should return status right away.
func parseFlags(fs *flag.FlagSet, args []string, maxArgs int, stderr io.Writer) (status int, ok bool) {
	usage := fs.Usage
	fs.Usage = func() {} // one line, not a page, on a bad flag
	fs.SetOutput(io.Discard)
	err := parseInterspersed(fs, args)
	fs.SetOutput(stderr)
	fs.Usage = usage
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.Usage()
		return exitOK, false
	case err != nil:
		return usagef(stderr, fs.Name(), "%s", dashDash(err)), false
	case maxArgs >= 0 && fs.NArg() > maxArgs:
		return usagef(stderr, fs.Name(), "unexpected argument %q", fs.Arg(maxArgs)), false
	}
	return exitOK, true
}

// usagef prints a one-line reason for bad usage or input and returns exit status 2.
func usagef(stderr io.Writer, cmd, format string, args ...any) int {
	fmt.Fprintf(stderr, "verishake %s: %s\n", cmd, fmt.Sprintf(format, args...))
	return exitUsage
}
