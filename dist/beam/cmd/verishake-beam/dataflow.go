package main

import (
	"context"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/dataflow"
)

// dataflowRunner submits each level's pipeline to Google Cloud Dataflow
// and waits for it: the project, region, staging location and worker
// binary come from Beam's own options after -- (docs/distributed.md).
type dataflowRunner struct{}

func (dataflowRunner) Run(ctx context.Context, p *beam.Pipeline) error {
	_, err := dataflow.Execute(ctx, p)
	return err
}
