package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/transport"
)

func init() {
	register(command{
		name:    "validate",
		usage:   "[--json] [--diagram REGID] TRACE...",
		summary: "check that traces of a real run (serve, devices, demo) are a behaviour of the model and keep the properties",
		run:     runValidate,
	})
}

// validateJSON is validate's --json report.
type validateJSON struct {
	OK         bool                  `json:"ok"`
	Files      int                   `json:"files"`
	Runs       int                   `json:"runs"`
	Profile    string                `json:"profile"`
	Steps      int                   `json:"steps"`
	Clients    int                   `json:"clients"`
	Slots      int                   `json:"slots"`
	Verified   int                   `json:"verified"`
	Evictions  int                   `json:"evictions"`
	Undone     int                   `json:"undone"`
	Retracted  int                   `json:"retracted"`
	Receives   int                   `json:"receives"`
	Matched    int                   `json:"matched"`
	Injections []transport.Injection `json:"injections"`
	Claims     int                   `json:"claims"`
	Violations []string              `json:"violations"`
	Warnings   []string              `json:"warnings"`
	Error      *transport.TraceError `json:"error,omitempty"`
	Diagram    string                `json:"diagram,omitempty"`
	// Properties are the verdicts, in the schema every command shares.
	Properties []propertyResult `json:"properties"`
}

func runValidate(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("validate", stderr)
	asJSON := fs.Bool("json", false, "print one JSON object on stdout")
	diagram := fs.String("diagram", "", "also print the Mermaid sequence diagram of the handshake of `REGID`")
	if status, ok := parseFlags(fs, args, -1, stderr); !ok {
		return status
	}
	if fs.NArg() == 0 {
		return usagef(stderr, "validate", "no trace files given")
	}
	var diagID protocol.RegID
	if *diagram != "" {
		n, err := strconv.ParseUint(*diagram, 10, 64)
		if err != nil {
			return usagef(stderr, "validate", "--diagram %q: not a RegID", *diagram)
		}
		diagID = protocol.RegID(n)
	}
	var inputs []transport.TraceInput
	for _, name := range fs.Args() {
		f, err := os.Open(name)
		if err != nil {
			return usagef(stderr, "validate", "%v", err)
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil && fi.IsDir() {
			return usagef(stderr, "validate", "%s: is a directory", name)
		}
		inputs = append(inputs, transport.TraceInput{Name: name, R: bufio.NewReader(f)})
	}
	rep, err := transport.ValidateTraces(inputs)
	if err != nil {
		te, ok := errors.AsType[*transport.TraceError](err)
		if !ok || !te.Forbidden {
			return usagef(stderr, "validate", "%v", err)
		}
		// The model forbids a step: the run is not a behaviour of the model.
		if *asJSON {
			_ = json.NewEncoder(stdout).Encode(validateJSON{OK: false, Files: len(inputs), Error: te,
				Injections: []transport.Injection{}, Violations: []string{}, Warnings: []string{},
				Properties: validateVerdicts(nil, fs.Args(), true)})
		}
		fmt.Fprintf(stderr, "verishake validate: %v\n", err)
		return exitViolation
	}
	viols, warns := []string{}, []string{}
	for _, v := range rep.Violations {
		viols = append(viols, v.String())
	}
	for _, w := range rep.Warnings {
		warns = append(warns, w.String())
		// On stderr in both modes: a warning is about the input, not a result.
		fmt.Fprintf(stderr, "verishake validate: warning: %s\n", w)
	}
	out := validateJSON{OK: rep.OK(), Files: rep.Files, Runs: rep.Runs, Profile: rep.Profile.Name, Steps: rep.Steps, Clients: rep.Clients,
		Slots: rep.Slots, Verified: rep.Verified, Evictions: rep.Evictions, Undone: rep.Undone, Retracted: rep.Retracted, Receives: rep.Receives, Matched: rep.Matched,
		Injections: rep.Injections, Claims: rep.Claims, Violations: viols, Warnings: warns,
		Properties: validateVerdicts(rep, fs.Args(), false)}
	if out.Injections == nil {
		out.Injections = []transport.Injection{}
	}
	if *diagram != "" {
		out.Diagram = rep.SequenceDiagram(diagID)
	}
	if *asJSON {
		_ = json.NewEncoder(stdout).Encode(out)
	} else {
		fmt.Fprintf(stdout, "%d file(s), %d run(s), profile %s: %d steps of %d clients and %d server slots replayed by the model\n",
			rep.Files, rep.Runs, rep.Profile.Name, rep.Steps, rep.Clients, rep.Slots)
		fmt.Fprintf(stdout, "receives: %d, matched to their send: %d, injections: %d; claims checked: %d; clients verified: %d\n",
			rep.Receives, rep.Matched, len(rep.Injections), rep.Claims, rep.Verified)
		if rep.Evictions > 0 {
			fmt.Fprintf(stdout, "evictions: %d pending sessions ended before their lifetime at a full half-open cap (the server's one step outside the model; it claims nothing)\n", rep.Evictions)
		}
		if rep.Undone > 0 {
			fmt.Fprintf(stdout, "undone: %d server steps traced before a restart and not stored (each is a warning)\n", rep.Undone)
		}
		if rep.Retracted > 0 {
			fmt.Fprintf(stdout, "retracted: %d server steps the session store refused, taken back by the server\n", rep.Retracted)
		}
		for _, in := range rep.Injections {
			fmt.Fprintf(stdout, "injection: %s:%d: %s %d: %s\n", in.File, in.Line, in.Kind, in.ID, in.Reason)
		}
		for _, v := range viols {
			fmt.Fprintf(stdout, "VIOLATION %s\n", v)
		}
		if out.Diagram != "" {
			fmt.Fprint(stdout, out.Diagram)
		}
	}
	if !rep.OK() {
		return exitViolation
	}
	return exitOK
}
