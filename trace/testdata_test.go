package trace

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTestdataReencodesIdentically: traces written before the schema
// moved into this package (testdata/README.md says by what) read through
// Reader, strictly (no field unknown to the types, every record passing
// Record.Check), and encode back through Writer to the same bytes. A field renamed, dropped
// or reordered, or an encoding option changed, fails here.
func TestTestdataReencodesIdentically(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.jsonl"))
	require.NoError(t, err)
	// One trace of each source, so that each writer's form is covered.
	require.Len(t, files, 4, "testdata traces: sim, explore, and the two files of a transport run")
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			want, err := os.ReadFile(path)
			require.NoError(t, err)
			var got bytes.Buffer
			w := NewWriter(&got)
			rd := NewReader(bytes.NewReader(want))
			counts := map[string]int{}
			for {
				l, err := rd.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				require.NoError(t, err)
				counts[l.Type]++
				switch l.Type {
				case LineHeader:
					require.NoError(t, w.Header(*l.Header))
				case LineStep:
					require.NoError(t, w.Step(*l.Step))
				case LineEnd:
					require.NoError(t, w.End(*l.End))
				}
			}
			require.NoError(t, w.Flush())
			require.Equal(t, 1, counts[LineHeader], "one run per file")
			require.Equal(t, 1, counts[LineEnd], "one run per file")
			require.Positive(t, counts[LineStep])
			require.Equal(t, string(want), got.String())
		})
	}
}
