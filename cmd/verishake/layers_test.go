package main

import (
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// layers says which packages each package of the module must not link
// (a path below the module, or an import path starting "github.com/"), and
// why: the module's layering, as the go tool sees a user's build of it.
var layers = []struct {
	pkg    string
	banned []string
	why    string
}{
	{"engine", []string{"protocol", "sim", "adversary", "transport", "trace", "fsm"},
		"the explorer knows no protocol: the handshake is one model of it, Needham–Schroeder another"},
	{"transport", []string{"sim", "adversary"},
		"a service embedding transport links the machines and the trace schema, not the simulator or the adversary"},
	{"protocol", []string{"github.com/looplab", "sim", "adversary", "transport"},
		"a service embedding the machines does not pull in looplab (its adapter is fsm/looplab) or anything above protocol"},
}

// TestPackagesLinkOnlyTheirLayers runs `go list -deps` on each package of
// the layering table and fails on any banned package it links.
func TestPackagesLinkOnlyTheirLayers(t *testing.T) {
	gotool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go tool on PATH to list dependencies: %v", err)
	}
	const module = "github.com/verishake/verishake/"
	for _, l := range layers {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		out, err := exec.CommandContext(ctx, gotool, "list", "-deps", module+l.pkg).CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", l.pkg, err, out)
		}
		deps := strings.Fields(string(out))
		if !slices.Contains(deps, module+l.pkg) {
			t.Fatalf("go list -deps does not list %s itself; output:\n%s", l.pkg, out)
		}
		for _, d := range deps {
			for _, b := range l.banned {
				if !strings.HasPrefix(b, "github.com/") {
					b = module + b
				}
				if d == b || strings.HasPrefix(d, b+"/") {
					t.Errorf("%s links %s: %s", l.pkg, d, l.why)
				}
			}
		}
	}
}
