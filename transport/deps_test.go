package transport

import (
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestTransportLinksNoSimulator: a service that embeds transport links
// the machines and the trace schema, not the simulator or the adversary
// (the schema lives in package trace so that it need not). The go tool
// answers what the package links, build tags and all, as a user's build
// would see it.
func TestTransportLinksNoSimulator(t *testing.T) {
	gotool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go tool on PATH to list transport's dependencies: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const module = "github.com/verishake/verishake/"
	out, err := exec.CommandContext(ctx, gotool, "list", "-deps", module+"transport").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, module+"transport") {
		t.Fatalf("go list -deps does not list transport itself; output:\n%s", out)
	}
	for _, d := range deps {
		for _, banned := range []string{module + "sim", module + "adversary"} {
			if d == banned || strings.HasPrefix(d, banned+"/") {
				t.Errorf("transport links %s", d)
			}
		}
	}
}
