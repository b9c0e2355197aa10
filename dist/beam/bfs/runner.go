package bfs

import (
	"context"
	"fmt"
	"sync"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/options/jobopts"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/universal"
)

// Runner runs one level's pipeline to its end.
type Runner interface {
	Run(ctx context.Context, p *beam.Pipeline) error
}

// Beam's Go SDK takes a runner's endpoint and environment from its
// global options: runs are one at a time, each with its own.
var (
	runMu         sync.Mutex
	prismEndpoint string // the in-process Prism's, once started
)

// Prism runs pipelines on a Prism runner inside this process, its SDK
// harness in the same process (loopback). Prism's job server, started
// with the first run and kept for the rest, listens on a port of every
// interface of the host (Beam v2.77.0 gives no choice of address).
type Prism struct{}

func (Prism) Run(ctx context.Context, p *beam.Pipeline) error {
	runMu.Lock()
	defer runMu.Unlock()
	*jobopts.Endpoint = prismEndpoint
	*jobopts.EnvironmentType = "LOOPBACK"
	_, err := prism.Execute(ctx, p)
	prismEndpoint = *jobopts.Endpoint
	return err
}

// Universal submits pipelines to a portable job server (Prism's, Flink's,
// Spark's) at Endpoint, HOST:PORT. Without an environment set in Beam's
// own options (--environment_type), the SDK harness is this process
// (loopback), which a job server on this host reaches.
type Universal struct{ Endpoint string }

func (u Universal) Run(ctx context.Context, p *beam.Pipeline) error {
	if u.Endpoint == "" {
		return fmt.Errorf("%w: the universal runner needs an endpoint", ErrOptions)
	}
	runMu.Lock()
	defer runMu.Unlock()
	env := *jobopts.EnvironmentType
	defer func() { *jobopts.EnvironmentType = env }()
	if env == "" {
		*jobopts.EnvironmentType = "LOOPBACK"
	}
	*jobopts.Endpoint = u.Endpoint
	_, err := universal.Execute(ctx, p)
	return err
}
