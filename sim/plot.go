package sim

import (
	"fmt"
	"io"
	"math"
	"time"

	"github.com/verishake/verishake/internal/svgplot"
)

// PlotLatency writes an SVG histogram of the virtual latency of a run's
// verified handshakes: 48 bins on a logarithmic axis from the fastest to
// the slowest, the count of handshakes in each (on a log axis when they
// span more than two decades), p50 and p99 marked, and a title naming the
// run's profile, faults, adversary and seed.
func PlotLatency(w io.Writer, cfg Config, rep *Report) error {
	const bins = 48
	chart := svgplot.Chart{
		Title: fmt.Sprintf("verishake sim: latency of %d verified handshakes (of %d)", rep.Verified, rep.Handshakes),
		Subtitle: fmt.Sprintf("profile %s, adversary %s, loss %g (push %g), dup %g, corrupt %g, delay %v..%v, seed %d",
			rep.Profile, rep.Adversary, cfg.Upstream.Loss, cfg.Push.Loss, cfg.Upstream.Dup, cfg.Upstream.Corrupt,
			cfg.Upstream.DelayMin, cfg.Upstream.DelayMax, rep.Seed),
		XLabel: "latency, Start to Verified (virtual ms, log scale)",
		YLabel: "handshakes per bin",
		LogX:   true,
		Empty:  "no verified handshake",
		XFormat: func(ms float64) string {
			if ms >= 1000 {
				return svgplot.Number(ms/1000) + " s"
			}
			return svgplot.Number(ms) + " ms"
		},
	}
	h := rep.latency
	if h == nil || h.n == 0 {
		return chart.WriteSVG(w)
	}
	toMs := func(ns int64) float64 { return float64(ns) / float64(time.Millisecond) }
	lo := math.Log10(math.Max(toMs(h.quantile(1e-9)), 1e-3))
	hi := math.Log10(math.Max(toMs(h.max), 1e-3)) + 1e-9
	if hi-lo < 1e-6 {
		lo, hi = lo-0.5, hi+0.5
	}
	var counts [bins]float64
	for i, c := range h.counts {
		if c == 0 {
			continue
		}
		x := math.Log10(math.Max(toMs(min(upper(i), h.max)), 1e-3))
		b := min(max(int((x-lo)/(hi-lo)*bins), 0), bins-1)
		counts[b] += float64(c)
	}
	least, most := math.Inf(1), 0.0
	for b, c := range counts {
		if c == 0 {
			continue
		}
		least, most = min(least, c), max(most, c)
		chart.Bars = append(chart.Bars, svgplot.Bar{
			Lo: math.Pow(10, lo+(hi-lo)*float64(b)/bins), Hi: math.Pow(10, lo+(hi-lo)*float64(b+1)/bins), N: c})
	}
	if most/least > 100 {
		chart.LogY = true
		chart.YLabel = "handshakes per bin (log scale)"
	}
	chart.Marks = []svgplot.Mark{
		{X: math.Max(rep.LatencyP50, 1e-3), Label: fmt.Sprintf("p50 %.1f ms", rep.LatencyP50)},
		{X: math.Max(rep.LatencyP99, 1e-3), Label: fmt.Sprintf("p99 %.1f ms", rep.LatencyP99)},
	}
	return chart.WriteSVG(w)
}
