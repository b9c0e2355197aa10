package bfs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
)

// The work path's layout, under the run's directory:
//
//	level-L/frontier-P    the states of level L found in partition P
//	level-L/parents-P     their parent records
//	level-L/expanded-P    what expanding frontier-P of level L found (JSON)
//	level-L/joined-P      what joining partition P wrote into level L (JSON)
//	visited/P/level-L     partition P's fingerprints first seen at level L
func levelDir(run string, l int) string { return fmt.Sprintf("%s/level-%06d", run, l) }

func frontierPath(run string, l, p int) string {
	return fmt.Sprintf("%s/frontier-%05d", levelDir(run, l), p)
}
func parentsPath(run string, l, p int) string {
	return fmt.Sprintf("%s/parents-%05d", levelDir(run, l), p)
}
func joinPath(run string, l, p int) string {
	return fmt.Sprintf("%s/joined-%05d", levelDir(run, l), p)
}
func visitedPath(run string, p, l int) string {
	return fmt.Sprintf("%s/visited/%05d/level-%06d", run, p, l)
}

// expandPath is where expanding a frontier shard reports.
func expandPath(shard string) string {
	return strings.Replace(shard, "/frontier-", "/expanded-", 1)
}

// visitedLevel is the level a visited update's name gives, so that the
// join of level L reads the updates of levels 0 to L and none that a
// retried join already wrote for L+1.
func visitedLevel(path string) (int, bool) {
	i := strings.LastIndex(path, "/level-")
	if i < 0 {
		return 0, false
	}
	var l int
	if _, err := fmt.Sscanf(path[i:], "/level-%06d", &l); err != nil {
		return 0, false
	}
	return l, true
}

// writeFile writes data to name whole: through a temporary name and a
// rename where the filesystem renames (a retried bundle then never leaves
// half a file), directly where a write is atomic anyway (object stores).
func writeFile(ctx context.Context, fs filesystem.Interface, name string, data []byte) error {
	target := name
	renamer, renames := fs.(filesystem.Renamer)
	if renames {
		var tag [6]byte
		rand.Read(tag[:])
		target = name + ".tmp-" + hex.EncodeToString(tag[:])
	}
	w, err := fs.OpenWrite(ctx, target)
	if err != nil {
		return fmt.Errorf("bfs: writing %s: %w", name, err)
	}
	if _, err := w.Write(data); err != nil {
		w.Close()
		return fmt.Errorf("bfs: writing %s: %w", name, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("bfs: writing %s: %w", name, err)
	}
	if renames {
		if err := renamer.Rename(ctx, target, name); err != nil {
			return fmt.Errorf("bfs: writing %s: %w", name, err)
		}
	}
	return nil
}

func readFile(ctx context.Context, fs filesystem.Interface, name string) ([]byte, error) {
	r, err := fs.OpenRead(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("bfs: reading %s: %w", name, err)
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("bfs: reading %s: %w", name, err)
	}
	return data, nil
}

// exists reports whether name is there.
func exists(ctx context.Context, fs filesystem.Interface, name string) bool {
	found, err := fs.List(ctx, name)
	return err == nil && len(found) > 0
}

// removeFile removes name where the filesystem removes files.
func removeFile(ctx context.Context, fs filesystem.Interface, name string) {
	if r, ok := fs.(filesystem.Remover); ok {
		r.Remove(ctx, name)
	}
}
