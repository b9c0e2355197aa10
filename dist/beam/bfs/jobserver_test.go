package bfs_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/dist/beam/bfs"
	"github.com/verishake/verishake/dist/beam/internal/isolated"
	"github.com/verishake/verishake/engine"
)

// startJobServer starts this test binary as a Prism job server in a
// process of its own, on a free port of 127.0.0.1, and returns its
// endpoint; the server stops when the test ends.
func startJobServer(t *testing.T) string {
	t.Helper()
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := probe.Addr().(*net.TCPAddr).Port
	require.NoError(t, probe.Close())
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", jobServerPort, port))
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Skipf("the job server cannot start: %v", err)
	}
	exited := make(chan error, 1)
	t.Cleanup(func() {
		stdin.Close()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
			t.Error("the job server did not stop within 10s of its input closing")
		}
	})
	ready := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		ready <- strings.TrimSpace(line)
		exited <- cmd.Wait()
	}()
	select {
	case line := <-ready:
		if line != "ready" {
			t.Skipf("the job server cannot start: it said %q", line)
		}
	case <-time.After(time.Minute):
		t.Skip("the job server cannot start: not ready within a minute")
	}
	return fmt.Sprintf("127.0.0.1:%d", port)
}

// The portable path, which Flink and Spark take: the same pipelines
// submitted to a Prism job server in another process give the engine's
// report.
func TestJobServerAsEngine(t *testing.T) {
	isolated.Require(t)
	endpoint := startJobServer(t)
	h := handshake("patent", nil)
	m, err := h.Model()
	require.NoError(t, err)
	ctx := context.Background()
	want, err := engine.Search(ctx, m, engine.Config{})
	require.NoError(t, err)
	got, err := bfs.Search(ctx, m, h.Spec(), bfs.Options{Runner: bfs.Universal{Endpoint: endpoint}, Work: t.TempDir(), Partitions: 2})
	require.NoError(t, err)
	requireSameReport(t, want, got.Report, "on the job server at "+endpoint)
}
