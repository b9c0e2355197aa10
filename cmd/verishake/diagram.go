package main

import (
	"fmt"
	"io"

	"github.com/verishake/verishake/fsm"
	"github.com/verishake/verishake/protocol"
)

func init() {
	register(command{
		name:    "diagram",
		usage:   "[--profile P] [--machine client|server] [--format mermaid|dot]",
		summary: "print a machine's state diagram, rendered from the table the code runs",
		run:     runDiagram,
	})
}

func runDiagram(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("diagram", stderr)
	profile := fs.String("profile", "hardened", "profile: patent or hardened")
	machine := fs.String("machine", "client", "machine: client or server")
	format := fs.String("format", "mermaid", "format: mermaid or dot")
	if status, ok := parseFlags(fs, args, 0, stderr); !ok {
		return status
	}
	p, err := protocol.ProfileByName(*profile)
	if err != nil {
		return usagef(stderr, "diagram", "--profile: %v", err)
	}
	if *format != "mermaid" && *format != "dot" {
		return usagef(stderr, "diagram", "--format: unknown format %q (want mermaid or dot)", *format)
	}
	h, err := p.Compile()
	if err != nil {
		return usagef(stderr, "diagram", "--profile %s: %v", *profile, err)
	}
	var out string
	switch *machine {
	case "client":
		out = render(h.ClientMachine(), *format)
	case "server":
		out = render(h.ServerMachine(), *format)
	default:
		return usagef(stderr, "diagram", "--machine: unknown machine %q (want client or server)", *machine)
	}
	fmt.Fprint(stdout, out)
	return exitOK
}

func render[S, E comparable](m *fsm.Machine[S, E], format string) string {
	if format == "dot" {
		return m.DOT(fsm.ExportOptions[S]{})
	}
	return m.Mermaid(fsm.ExportOptions[S]{})
}
