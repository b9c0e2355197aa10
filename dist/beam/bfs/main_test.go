package bfs_test

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"

	"github.com/verishake/verishake/dist/beam/internal/isolated"
)

// jobServerPort, set, makes this test binary a Prism job server on that
// port instead of running tests: the job-server test's separate process.
const jobServerPort = "VERISHAKE_BEAM_JOBSERVER_PORT"

// jobServerIdle is how long the job server waits for a job before it
// shuts itself down, should the test that started it not stop it.
const jobServerIdle = 2 * time.Minute

func TestMain(m *testing.M) {
	isolated.Main(m, func() {
		// Prism logs every job and stage at info.
		slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
		if port := os.Getenv(jobServerPort); port != "" {
			os.Exit(serveJobs(port))
		}
		beam.Init()
	})
}

// serveJobs runs Prism's job server until its standard input closes or
// it has been idle for jobServerIdle, saying "ready" once it listens.
func serveJobs(port string) int {
	n, err := strconv.Atoi(port)
	if err != nil || n <= 0 {
		fmt.Fprintf(os.Stderr, "%s=%q: want a port number\n", jobServerPort, port)
		return 2
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	if _, err := prism.CreateJobServer(ctx, prism.Options{Port: n, IdleShutdownTimeout: jobServerIdle, CancelFn: cancel}); err != nil {
		fmt.Fprintf(os.Stderr, "job server: %v\n", err)
		return 1
	}
	fmt.Println("ready")
	go func() {
		bufio.NewReader(os.Stdin).ReadString('\n') // EOF: the test is done
		cancel(nil)
	}()
	<-ctx.Done()
	return 0
}
