package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// svgTexts decodes an SVG file, failing on malformed XML, and returns its
// labels and the number of bars.
func svgTexts(t *testing.T, path string) (texts []string, bars int) {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	d := xml.NewDecoder(bytes.NewReader(raw))
	inText := false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return texts, bars
		}
		require.NoError(t, err, "malformed SVG %s", path)
		switch tok := tok.(type) {
		case xml.StartElement:
			inText = tok.Name.Local == "text"
			for _, a := range tok.Attr {
				if tok.Name.Local == "rect" && a.Name.Local == "fill" && a.Value == "steelblue" {
					bars++
				}
			}
		case xml.CharData:
			if inText {
				texts = append(texts, string(tok))
			}
		case xml.EndElement:
			inText = false
		}
	}
}

// sim --plot names the run (loss and adversary) and labels both axes and
// the decades of latency.
func TestSimPlotIsLabelled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "latency.svg")
	status, _, errOut := runCLI("sim", "--handshakes", "2000", "--loss", "0.1", "--adversary", "replay", "--plot", path)
	require.Equal(t, exitOK, status, errOut)
	texts, bars := svgTexts(t, path)
	all := strings.Join(texts, "\n")
	require.Contains(t, all, "latency of 2000 verified handshakes")
	require.Contains(t, all, "adversary replay, loss 0.1 (push 0.1)")
	require.Contains(t, all, "handshakes per bin")
	require.Contains(t, all, "latency, Start to Verified")
	require.Contains(t, texts, "100 ms")
	require.Contains(t, texts, "1 s")
	require.Contains(t, all, "p50 ")
	require.Greater(t, bars, 5)
}

// check --plot draws one bar per BFS level, the initial state's included.
func TestCheckPlotHasABarPerLevel(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "levels.svg")
	status, out, errOut := runCLI("check", "--profile", "patent", "--json", "--plot", path, "--cex", dir)
	require.Equal(t, exitViolation, status, errOut)
	var rep checkReport
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	texts, bars := svgTexts(t, path)
	require.Equal(t, rep.Depth+1, bars, "levels 0..depth")
	all := strings.Join(texts, "\n")
	require.Contains(t, all, "verishake check patent: ")
	require.Contains(t, all, "BFS level")
	require.Contains(t, all, "new states at the level (log scale)")

	status, _, errOut = runCLI("check", "--plot", filepath.Join(dir, "no", "such", "dir", "x.svg"))
	require.Equal(t, exitUsage, status)
	require.Contains(t, errOut, "--plot")
}
