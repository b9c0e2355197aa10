// Package svgplot draws the bar charts verishake's reports plot (sim's
// latency histogram, check's states per BFS level) as standalone SVG:
// titled, with labelled axes, tick labels that fit inside the picture, and
// on a logarithmic axis a labelled tick at each decade and unlabelled ones
// between. It has no dependencies, and the same chart gives the same bytes.
package svgplot

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"math"
	"strconv"
	"strings"
)

// Bar is one bar: the interval [Lo, Hi) of the x axis and its height N.
type Bar struct {
	Lo, Hi, N float64
}

// Mark is a labelled vertical line at X.
type Mark struct {
	X     float64
	Label string
}

// Chart is a bar chart.
type Chart struct {
	// Title and Subtitle head the picture, one line each.
	Title, Subtitle string
	XLabel, YLabel  string
	// LogX and LogY put an axis on a logarithmic scale; every value on it
	// must then be positive (a bar of height 0 is not drawn).
	LogX, LogY bool
	Bars       []Bar
	Marks      []Mark
	// XFormat writes an x tick's label (default: Number).
	XFormat func(float64) string
	// Empty is written in the plot area when there are no bars.
	Empty string
}

// Picture size and margins, in pixels; CharWidth is the advance of the
// 12 px sans-serif the picture uses, generously, so that labels sized by it
// stay inside.
const (
	Width, Height                    = 800, 480
	left, right, top, bottom         = 80, 30, 80, 64
	FontSize                         = 12
	CharWidth                        = 7.2
	plotLeft, plotRight              = left, Width - right
	plotTop, plotBottom      float64 = top, Height - bottom
)

// axis maps data values to pixels.
type axis struct {
	lo, hi   float64 // in data units (log10 of them on a log axis)
	log      bool
	from, to float64 // pixels
}

func (a axis) pixel(v float64) float64 {
	if a.log {
		v = math.Log10(v)
	}
	return a.from + (v-a.lo)/(a.hi-a.lo)*(a.to-a.from)
}

// tick is a position on an axis, labelled or not.
type tick struct {
	v     float64
	label string
}

// ticks are an axis's ticks: each decade and the 2..9 between on a log
// axis, steps of 1, 2 or 5 times a power of ten on a linear one.
func (a axis) ticks(format func(float64) string) []tick {
	if format == nil {
		format = Number
	}
	var out []tick
	if a.log {
		for d := math.Ceil(a.lo); d <= a.hi; d++ {
			for m := 1.0; m < 10; m++ {
				v := m * math.Pow(10, d)
				if lv := math.Log10(v); lv < a.lo-1e-9 || lv > a.hi+1e-9 {
					continue
				}
				t := tick{v: v}
				if m == 1 {
					t.label = format(v)
				}
				out = append(out, t)
			}
		}
		return out
	}
	step := niceStep((a.hi - a.lo) / 5)
	for v := math.Ceil(a.lo/step) * step; v <= a.hi+step*1e-9; v += step {
		out = append(out, tick{v: v, label: format(v)})
	}
	return out
}

// niceStep is the step of 1, 2 or 5 times a power of ten nearest above raw.
func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

// Number writes v shortly: 1, 2.5, 10, 1k, 20k, 1M.
func Number(v float64) string {
	if v == 0 {
		return "0" // never "-0"
	}
	for _, s := range []struct {
		div    float64
		suffix string
	}{{1e9, "G"}, {1e6, "M"}, {1e3, "k"}} {
		if math.Abs(v) >= s.div {
			return strconv.FormatFloat(v/s.div, 'g', 4, 64) + s.suffix
		}
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// span returns the range of an axis: on a log axis whole decades around
// the positive values, on a linear one from lo (or 0) to a tick above hi.
func span(lo, hi float64, log, fromZero bool) (float64, float64) {
	if log {
		// A little below the lowest value, so that a bar of the lowest
		// height still shows.
		l := math.Log10(lo)
		lo, hi = min(math.Floor(l), l-0.3), math.Ceil(math.Log10(hi))
		if hi <= lo {
			hi = lo + 1
		}
		return lo, hi
	}
	if fromZero {
		lo = min(lo, 0)
	}
	if hi <= lo {
		hi = lo + 1
	}
	step := niceStep((hi - lo) / 5)
	return math.Floor(lo/step) * step, math.Ceil(hi/step) * step
}

// WriteSVG draws c.
func (c Chart) WriteSVG(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="%d">`+"\n",
		Width, Height, Width, Height, FontSize)
	fmt.Fprintf(bw, `<rect width="%d" height="%d" fill="white"/>`+"\n", Width, Height)
	text(bw, 12, 22, "start", 0, c.Title, `font-size="14" font-weight="bold"`)
	for i, line := range wrap(c.Subtitle, Width-24) {
		text(bw, 12, 40+float64(i)*16, "start", 0, line, "")
	}
	text(bw, (plotLeft+plotRight)/2, Height-14, "middle", 0, c.XLabel, "")
	text(bw, 18, (plotTop+plotBottom)/2, "middle", -90, c.YLabel, "")
	var bars []Bar
	for _, b := range c.Bars {
		if b.N > 0 && (!c.LogX || b.Lo > 0) {
			bars = append(bars, b)
		}
	}
	if len(bars) == 0 {
		text(bw, (plotLeft+plotRight)/2, (plotTop+plotBottom)/2, "middle", 0, c.Empty, "")
		fmt.Fprintln(bw, "</svg>")
		return bw.Flush()
	}
	xlo, xhi, ylo, yhi := bars[0].Lo, bars[0].Hi, bars[0].N, bars[0].N
	for _, b := range bars {
		xlo, xhi, ylo, yhi = min(xlo, b.Lo), max(xhi, b.Hi), min(ylo, b.N), max(yhi, b.N)
	}
	x := axis{log: c.LogX, from: plotLeft, to: plotRight}
	x.lo, x.hi = span(xlo, xhi, c.LogX, false)
	if !c.LogX {
		x.lo, x.hi = xlo, xhi // bars fill the width
	}
	y := axis{log: c.LogY, from: plotBottom, to: plotTop}
	y.lo, y.hi = span(ylo, yhi, c.LogY, true)
	// The bars stand on the bottom of the axis: 0, or the decade below
	// the lowest on a log axis.
	// Ticks and grid, under the bars; the axes over them.
	for _, t := range y.ticks(Number) {
		py := y.pixel(t.v)
		size := 4.0
		if t.label != "" {
			size = 8
			fmt.Fprintf(bw, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>`+"\n", plotLeft, py, plotRight, py)
			text(bw, plotLeft-9, py+4, "end", 0, t.label, "")
		}
		fmt.Fprintf(bw, `<line x1="%.1f" y1="%.1f" x2="%d" y2="%.1f" stroke="black"/>`+"\n", plotLeft-size, py, plotLeft, py)
	}
	for _, t := range x.ticks(c.XFormat) {
		px := x.pixel(t.v)
		if px < plotLeft-0.5 || px > plotRight+0.5 {
			continue
		}
		size := 4.0
		if t.label != "" {
			size = 8
			text(bw, px, plotBottom+20, "middle", 0, t.label, "")
		}
		fmt.Fprintf(bw, `<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.1f" stroke="black"/>`+"\n", px, plotBottom, px, plotBottom+size)
	}
	base := plotBottom
	for _, b := range bars {
		x0, x1, y1 := x.pixel(b.Lo), x.pixel(b.Hi), y.pixel(b.N)
		fmt.Fprintf(bw, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="steelblue"><title>%s</title></rect>`+"\n",
			x0, y1, max(x1-x0-1, 1), base-y1, html.EscapeString(Number(b.N)))
	}
	fmt.Fprintf(bw, `<g stroke="black"><line x1="%d" y1="%.0f" x2="%d" y2="%.0f"/><line x1="%d" y1="%.0f" x2="%d" y2="%.0f"/></g>`+"\n",
		plotLeft, plotBottom, plotRight, plotBottom, plotLeft, plotTop, plotLeft, plotBottom)
	for i, m := range c.Marks {
		px := x.pixel(m.X)
		fmt.Fprintf(bw, `<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" stroke="crimson" stroke-dasharray="4 3"/>`+"\n", px, plotTop, px, plotBottom)
		// Labels go right of their line unless they would leave the
		// picture; each on its own row, so that close marks stay legible.
		anchor, lx := "start", px+4
		if lx+TextWidth(m.Label) > Width-4 {
			anchor, lx = "end", px-4
		}
		text(bw, lx, plotTop+14+float64(i)*15, anchor, 0, m.Label, `fill="crimson"`)
	}
	fmt.Fprintln(bw, "</svg>")
	return bw.Flush()
}

// wrap splits s into at most two lines of at most width pixels, at the
// "; " (else the space) nearest the middle; a line that still does not fit is cut with an
// ellipsis.
func wrap(s string, width float64) []string {
	if TextWidth(s) <= width {
		return []string{s}
	}
	r := []rune(s)
	// Break after a "; " if there is one, else at a space.
	at := func(i int) bool { return r[i] == ' ' && i > 0 && r[i-1] == ';' }
	if !strings.Contains(s, "; ") {
		at = func(i int) bool { return r[i] == ' ' }
	}
	best := -1
	for i := range r {
		if at(i) && (best < 0 || abs(i-len(r)/2) < abs(best-len(r)/2)) {
			best = i
		}
	}
	if best < 0 {
		return []string{cut(s, width)}
	}
	return []string{cut(string(r[:best]), width), cut(string(r[best+1:]), width)}
}

func abs(n int) int { return max(n, -n) }

// cut shortens s to width pixels.
func cut(s string, width float64) string {
	if TextWidth(s) <= width {
		return s
	}
	n := max(int(width/CharWidth)-1, 0)
	return string([]rune(s)[:n]) + "…"
}

// TextWidth is the width a label takes, by CharWidth.
func TextWidth(s string) float64 { return float64(len([]rune(s))) * CharWidth }

func text(w io.Writer, x, y float64, anchor string, rotate int, s, attrs string) {
	if s == "" {
		return
	}
	transform := ""
	if rotate != 0 {
		transform = fmt.Sprintf(` transform="rotate(%d %.1f %.1f)"`, rotate, x, y)
	}
	fmt.Fprintf(w, `<text x="%.1f" y="%.1f" text-anchor="%s"%s %s>%s</text>`+"\n", x, y, anchor, transform, attrs, html.EscapeString(s))
}
