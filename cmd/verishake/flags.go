package main

import (
	"flag"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
)

// helpCommand is `verishake help CMD`: CMD's usage and flags on stdout.
func helpCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		return usagef(stderr, "help", "want one command name, got %d arguments", len(args))
	}
	i := slices.IndexFunc(commands, func(c command) bool { return c.name == args[0] })
	if i < 0 {
		fmt.Fprintf(stderr, "verishake help: unknown command %q (run 'verishake help')\n", args[0])
		return exitUsage
	}
	// Every command prints its usage where it reports errors; here that is
	// stdout, since the help was asked for.
	return commands[i].run([]string{"--help"}, stdout, stdout)
}

// parseInterspersed parses args into fs, accepting flags before and after
// positional arguments (validate a.jsonl b.jsonl --json); "--" ends the
// flags. fs.Args() then holds the positional arguments, in order.
func parseInterspersed(fs *flag.FlagSet, args []string) error {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		rest := fs.Args()
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			positional = append(positional, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	// Parsing "--" alone sets fs.Args() to what follows it and no flag.
	return fs.Parse(append([]string{"--"}, positional...))
}

// dashDash rewrites the flag package's messages, which name a flag "-x",
// into the "--x" spelling that help and docs use.
func dashDash(err error) string {
	msg := err.Error()
	for _, r := range []struct{ from, to string }{
		{"not defined: -", "not defined: --"},
		{" for flag -", " for flag --"},
		{" for -", " for --"},
		{"an argument: -", "an argument: --"},
	} {
		msg = strings.Replace(msg, r.from, r.to, 1)
	}
	return msg
}

// printFlagDefaults is flag.PrintDefaults with every flag spelled --name.
func printFlagDefaults(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if name != "" {
			line += " " + name
		}
		usage = strings.ReplaceAll(usage, "\n", "\n    \t")
		if !isZeroDefault(f) {
			if isStringValue(f) {
				usage += fmt.Sprintf(" (default %q)", f.DefValue)
			} else {
				usage += fmt.Sprintf(" (default %v)", f.DefValue)
			}
		}
		fmt.Fprintf(w, "%s\n    \t%s\n", line, usage)
	})
}

// isZeroDefault reports whether f's default is its type's zero value,
// which, as in package flag, the help leaves out.
func isZeroDefault(f *flag.Flag) (zero bool) {
	// A Value whose zero value cannot print itself has a default to show.
	defer func() {
		if recover() != nil {
			zero = false
		}
	}()
	t := reflect.TypeOf(f.Value)
	var z reflect.Value
	if t.Kind() == reflect.Pointer {
		z = reflect.New(t.Elem())
	} else {
		z = reflect.Zero(t)
	}
	if v, ok := z.Interface().(flag.Value); ok {
		return f.DefValue == v.String()
	}
	return f.DefValue == ""
}

// isStringValue reports whether f holds a plain string, whose default the
// help quotes.
func isStringValue(f *flag.Flag) bool {
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return false
	}
	_, isString := g.Get().(string)
	return isString
}

// checkProbabilities returns an error naming the first flag whose value is
// not a probability.
func checkProbabilities(flags ...probabilityFlag) error {
	for _, f := range flags {
		if !(f.value >= 0 && f.value <= 1) {
			return fmt.Errorf("--%s %v: want a probability in [0, 1]", f.name, f.value)
		}
	}
	return nil
}

// probabilityFlag is a flag holding a probability.
type probabilityFlag struct {
	name  string
	value float64
}
