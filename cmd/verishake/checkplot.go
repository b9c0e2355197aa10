package main

import (
	"fmt"
	"io"

	"github.com/verishake/verishake/internal/svgplot"
)

// plotLevels writes an SVG bar chart of the states check's search first
// reached at each BFS level (depth), on a log axis; stored holds the states
// stored after each level, as the explorer's progress reports them.
func plotLevels(w io.Writer, r checkReport, stored []uint64) error {
	b := r.Bounds
	state := "complete"
	if !r.Complete {
		state = "INCOMPLETE"
	}
	chart := svgplot.Chart{
		Title:    fmt.Sprintf("verishake check %s: %d states, depth %d, %s", displayName(r.Profile, r.Variant), r.States, r.Depth, state),
		Subtitle: fmt.Sprintf("%v; adversary %s", b, r.Adversary),
		XLabel:   "BFS level (steps from the initial state)",
		YLabel:   "new states at the level (log scale)",
		LogY:     true,
		XFormat: func(v float64) string {
			return svgplot.Number(v)
		},
		Empty: "no level explored",
	}
	prev := uint64(1) // the initial state, level 0
	chart.Bars = append(chart.Bars, svgplot.Bar{Lo: -0.5, Hi: 0.5, N: 1})
	for i, n := range stored {
		level := float64(i + 1)
		chart.Bars = append(chart.Bars, svgplot.Bar{Lo: level - 0.5, Hi: level + 0.5, N: float64(n - prev)})
		prev = n
	}
	return chart.WriteSVG(w)
}
