package trace

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTestdataReencodesIdentically: traces written before the schema
// moved into this package (testdata/README.md says by what) decode into
// its types, strictly (no field unknown to them), pass Record.Check, and
// encode back through Writer to the same bytes. A field renamed, dropped
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
			sc := bufio.NewScanner(bytes.NewReader(want))
			sc.Buffer(nil, 1<<20)
			counts := map[string]int{}
			for n := 1; sc.Scan(); n++ {
				var typ struct {
					Type string `json:"type"`
				}
				require.NoError(t, json.Unmarshal(sc.Bytes(), &typ), "line %d", n)
				counts[typ.Type]++
				switch typ.Type {
				case LineHeader:
					var h Header
					decodeStrict(t, sc.Bytes(), &h, n)
					require.Equal(t, Schema, h.Schema, "line %d", n)
					require.NoError(t, w.Header(h))
				case LineStep:
					var r Record
					decodeStrict(t, sc.Bytes(), &r, n)
					require.NoError(t, r.Check(), "line %d", n)
					require.NoError(t, w.Step(r))
				case LineEnd:
					var e End
					decodeStrict(t, sc.Bytes(), &e, n)
					require.NoError(t, w.End(e))
				default:
					t.Fatalf("line %d: line type %q", n, typ.Type)
				}
			}
			require.NoError(t, sc.Err())
			require.NoError(t, w.Flush())
			require.Equal(t, 1, counts[LineHeader], "one run per file")
			require.Equal(t, 1, counts[LineEnd], "one run per file")
			require.Positive(t, counts[LineStep])
			require.Equal(t, string(want), got.String())
		})
	}
}

func decodeStrict(t *testing.T, b []byte, v any, line int) {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	require.NoError(t, d.Decode(v), "line %d", line)
}
