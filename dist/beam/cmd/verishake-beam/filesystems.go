package main

// The work path may be on a local disk (shared, at the same path, by a
// cluster's workers) or on Google Cloud Storage (gs://).
import (
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/gcs"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/local"
)
