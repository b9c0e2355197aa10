package sim

import (
	"bufio"
	"fmt"
	"io"
	"math"
)

// PlotLatency writes an SVG histogram of the virtual latency of a run's
// verified handshakes: 48 bins on a logarithmic axis from the fastest to
// the slowest, with p50 and p99 marked. It is meant for a quick look, not
// for a paper.
func PlotLatency(w io.Writer, rep *Report) error {
	const (
		width, height = 720, 360
		left, bottom  = 60, 40
		top, right    = 30, 20
		bins          = 48
	)
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", width, height)
	fmt.Fprintf(bw, `<rect width="%d" height="%d" fill="white"/>`+"\n", width, height)
	fmt.Fprintf(bw, `<text x="%d" y="18">verishake sim: %s, seed %d — latency of %d verified handshakes (virtual ms, log scale)</text>`+"\n",
		left, rep.Profile, rep.Seed, rep.Verified)
	h := rep.latency
	if h == nil || h.n == 0 {
		fmt.Fprintf(bw, `<text x="%d" y="%d">no verified handshake</text>`+"\n", left, height/2)
		fmt.Fprintln(bw, "</svg>")
		return bw.Flush()
	}
	lo := math.Log10(math.Max(float64(h.quantile(1e-9)), 1))
	hi := math.Log10(math.Max(float64(h.max), 1)) + 1e-9
	if hi-lo < 1e-6 {
		hi = lo + 1
	}
	var counts [bins]uint64
	var most uint64
	for i, c := range h.counts {
		if c == 0 {
			continue
		}
		x := math.Log10(math.Max(float64(min(upper(i), h.max)), 1))
		b := min(max(int((x-lo)/(hi-lo)*bins), 0), bins-1)
		counts[b] += c
		most = max(most, counts[b])
	}
	plotW, plotH := float64(width-left-right), float64(height-top-bottom)
	xOf := func(v float64) float64 { return float64(left) + (math.Log10(math.Max(v, 1))-lo)/(hi-lo)*plotW }
	for b, c := range counts {
		if c == 0 {
			continue
		}
		bh := float64(c) / float64(most) * plotH
		fmt.Fprintf(bw, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="steelblue"/>`+"\n",
			float64(left)+float64(b)*plotW/bins, float64(top)+plotH-bh, plotW/bins-1, bh)
	}
	fmt.Fprintf(bw, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", left, height-bottom, width-right, height-bottom)
	for _, q := range []struct {
		name string
		ms   float64
	}{{"p50", rep.LatencyP50}, {"p99", rep.LatencyP99}} {
		x := xOf(q.ms * 1e6)
		fmt.Fprintf(bw, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="crimson" stroke-dasharray="4 3"/>`+"\n", x, top, x, height-bottom)
		fmt.Fprintf(bw, `<text x="%.1f" y="%d" fill="crimson">%s %.1f ms</text>`+"\n", x+3, top+12, q.name, q.ms)
	}
	for d := math.Ceil(lo); d <= hi; d++ {
		x := xOf(math.Pow(10, d))
		fmt.Fprintf(bw, `<text x="%.1f" y="%d" text-anchor="middle">%g ms</text>`+"\n", x, height-bottom+16, math.Pow(10, d)/1e6)
	}
	fmt.Fprintln(bw, "</svg>")
	return bw.Flush()
}
