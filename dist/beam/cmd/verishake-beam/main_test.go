package main

import (
	"log/slog"
	"os"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/verishake/verishake/dist/beam/internal/isolated"
)

func TestMain(m *testing.M) {
	isolated.Main(m, func() {
		slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
		beam.Init()
	})
}
