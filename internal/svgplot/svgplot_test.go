package svgplot

import (
	"bytes"
	"encoding/xml"
	"io"
	"strconv"
	"strings"
	"testing"
)

// element is an SVG element as the tests read it.
type element struct {
	Name  string
	Attr  map[string]string
	Text  string
	Width float64 // rect width
}

// parse decodes an SVG, failing on malformed XML, into its elements.
func parse(t *testing.T, svg []byte) []element {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(svg))
	var out []element
	var open *element
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("malformed SVG: %v\n%s", err, svg)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			e := element{Name: tok.Name.Local, Attr: map[string]string{}}
			for _, a := range tok.Attr {
				e.Attr[a.Name.Local] = a.Value
			}
			out = append(out, e)
			open = &out[len(out)-1]
		case xml.CharData:
			if open != nil {
				open.Text += string(tok)
			}
		case xml.EndElement:
			open = nil
		}
	}
}

func num(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return v
}

// requireLegible checks what makes a chart readable: every label inside
// the picture (by its anchor and a generous width per character), and
// every bar of positive height and inside the plot.
func requireLegible(t *testing.T, els []element) (texts []string) {
	t.Helper()
	for _, e := range els {
		switch e.Name {
		case "text":
			x, w := num(t, e.Attr["x"]), TextWidth(e.Text)
			lo, hi := x, x+w
			switch e.Attr["text-anchor"] {
			case "middle":
				lo, hi = x-w/2, x+w/2
			case "end":
				lo, hi = x-w, x
			}
			if strings.Contains(e.Attr["transform"], "rotate(-90") {
				y := num(t, e.Attr["y"])
				lo, hi = y-w/2, y+w/2
				if lo < 0 || hi > Height {
					t.Errorf("rotated label %q runs out of the picture: %.0f..%.0f", e.Text, lo, hi)
				}
				if x < FontSize {
					t.Errorf("rotated label %q clipped at the left", e.Text)
				}
			} else if lo < 0 || hi > Width {
				t.Errorf("label %q runs out of the picture: %.0f..%.0f of %d", e.Text, lo, hi, Width)
			}
			texts = append(texts, e.Text)
		case "rect":
			if e.Attr["fill"] != "steelblue" {
				continue
			}
			x, y, w, h := num(t, e.Attr["x"]), num(t, e.Attr["y"]), num(t, e.Attr["width"]), num(t, e.Attr["height"])
			if h <= 0 || w <= 0 {
				t.Errorf("bar %v has no area", e.Attr)
			}
			if x < plotLeft-0.5 || x+w > plotRight+0.5 || y < plotTop-0.5 || y+h > plotBottom+0.5 {
				t.Errorf("bar %v leaves the plot", e.Attr)
			}
		}
	}
	return texts
}

func contains(texts []string, s string) bool {
	for _, t := range texts {
		if t == s {
			return true
		}
	}
	return false
}

// A log-log histogram: decade labels on both axes, unlabelled ticks
// between decades, a bar of the lowest count still visible, long titles
// kept inside the picture.
func TestLogChartIsLegible(t *testing.T) {
	c := Chart{
		Title:    "a title",
		Subtitle: strings.Repeat("a long subtitle that goes on; ", 6),
		XLabel:   "x", YLabel: "count",
		LogX: true, LogY: true,
		Bars:  []Bar{{Lo: 12, Hi: 15, N: 1}, {Lo: 150, Hi: 200, N: 5000}, {Lo: 3000, Hi: 4000, N: 20}},
		Marks: []Mark{{X: 3900, Label: "p99 3900 ms, a label near the right edge"}},
	}
	var b bytes.Buffer
	if err := c.WriteSVG(&b); err != nil {
		t.Fatal(err)
	}
	els := parse(t, b.Bytes())
	texts := requireLegible(t, els)
	for _, want := range []string{"10", "100", "1k", "1", "10k"} {
		if !contains(texts, want) {
			t.Errorf("no tick label %q in %q", want, texts)
		}
	}
	minor := 0
	for _, e := range els {
		if e.Name == "line" && e.Attr["x1"] != e.Attr["x2"] && num(t, e.Attr["x2"])-num(t, e.Attr["x1"]) == 4 {
			minor++ // an unlabelled y tick
		}
	}
	if minor < 8*3 {
		t.Errorf("%d minor ticks on the y axis, want 8 between each of its decades", minor)
	}
}

func TestLinearChartAndEmpty(t *testing.T) {
	var b bytes.Buffer
	c := Chart{Title: "levels", XLabel: "level", YLabel: "states", LogY: true}
	for i := range 25 {
		c.Bars = append(c.Bars, Bar{Lo: float64(i) - 0.5, Hi: float64(i) + 0.5, N: float64(1 + i*i*100)})
	}
	if err := c.WriteSVG(&b); err != nil {
		t.Fatal(err)
	}
	texts := requireLegible(t, parse(t, b.Bytes()))
	if !contains(texts, "0") || contains(texts, "-0") || !contains(texts, "20") {
		t.Errorf("level labels: %q", texts)
	}

	b.Reset()
	if err := (Chart{Title: "t", Empty: "nothing to draw"}).WriteSVG(&b); err != nil {
		t.Fatal(err)
	}
	if !contains(requireLegible(t, parse(t, b.Bytes())), "nothing to draw") {
		t.Error("an empty chart says so")
	}
}

func TestNumber(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 1: "1", 2.5: "2.5", 1000: "1k", 20000: "20k", 1e6: "1M", 0.1: "0.1"} {
		if got := Number(v); got != want {
			t.Errorf("Number(%v) = %q, want %q", v, got, want)
		}
	}
}
