package protocol_test

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestNoLooplabDependency keeps looplab out of services that embed the
// machines: the adapter lives in fsm/looplab, which package protocol must not
// import, directly or through fsm. go test puts its own toolchain first on
// PATH, so the go found here is the one running the test.
func TestNoLooplabDependency(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command on PATH to list dependencies with: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, goTool, "list", "-deps", ".").Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		t.Fatalf("go list -deps: %v\n%s", err, ee.Stderr)
	}
	require.NoError(t, err, "go list -deps")

	deps := strings.Fields(string(out))
	// The list is the real one only if it holds what protocol does import.
	require.Contains(t, deps, "github.com/verishake/verishake/fsm")
	for _, d := range deps {
		require.False(t, strings.HasPrefix(d, "github.com/looplab/"), "package protocol depends on %s", d)
	}
}
