package verishaketest

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/verishake/verishake/internal/verifier"
	"github.com/verishake/verishake/sim"
	"github.com/verishake/verishake/trace"
)

// simTrace re-runs the simulation that violated pr (same configuration,
// same seed: the same run) with a trace, into the counterexample directory.
func simTrace(plan verifier.Plan, pr verifier.Property, cexDir string) (string, error) {
	i := slices.IndexFunc(plan.Checks, func(c verifier.Check) bool { return c.Name == pr.By && c.Sim != nil })
	if i < 0 {
		return "", nil
	}
	cfg := *plan.Checks[i].Sim
	if err := os.MkdirAll(cexDir, 0o755); err != nil {
		return "", fmt.Errorf("verishaketest: counterexample directory: %w", err)
	}
	name := cfg.Profile.Name + "-" + strings.NewReplacer(":", "", " ", "-", "%", "", ",", "").Replace(pr.By) + "-" + pr.ID
	f, err := os.CreateTemp(cexDir, strings.ReplaceAll(name, "+", "-")+"-*.jsonl")
	if err != nil {
		return "", fmt.Errorf("verishaketest: %w", err)
	}
	w := bufio.NewWriter(f)
	if _, err := sim.Run(cfg, sim.RunOptions{Trace: w}); err != nil {
		f.Close()
		return "", fmt.Errorf("verishaketest: %s: %w", pr.By, err)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return "", fmt.Errorf("verishaketest: %w", err)
	}
	return f.Name(), f.Close()
}

// diagram draws the handshake of a trace's first violation: its client's
// handshake under way at the violation (or the first one started, for a
// violation of no client's), from its start to the client's next start.
// It reads the trace's records rather than replaying them, so that a
// profile with hooks, which a replay cannot rebuild, gets its diagram too.
func diagram(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("verishaketest: %w", err)
	}
	defer f.Close()
	var (
		recs []trace.Record
		end  *trace.End
	)
	// Line by line, not with a trace.Reader: its header check refuses a
	// profile with hooks, and the header is not needed to draw.
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), trace.MaxLine)
	for n := 1; sc.Scan(); n++ {
		typ, err := trace.LineType(sc.Bytes())
		if err != nil {
			return "", fmt.Errorf("verishaketest: %s: line %d: %w", path, n, err)
		}
		switch typ {
		case trace.LineStep:
			r, err := trace.DecodeRecord(sc.Bytes())
			if err != nil {
				return "", fmt.Errorf("verishaketest: %s: line %d: %w", path, n, err)
			}
			recs = append(recs, r)
		case trace.LineEnd:
			e, err := trace.DecodeEnd(sc.Bytes())
			if err != nil {
				return "", fmt.Errorf("verishaketest: %s: line %d: %w", path, n, err)
			}
			end = &e
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("verishaketest: %s: %w", path, err)
	}
	if end == nil {
		return "", fmt.Errorf("verishaketest: %s: the trace has no end line", path)
	}
	var hs, regID uint64
	for _, r := range recs {
		if r.Step != sim.StepStart.String() || r.HS == 0 {
			continue
		}
		if len(end.Violations) > 0 && end.Violations[0].RegID != 0 {
			v := end.Violations[0]
			if r.RegID == v.RegID && r.N <= v.Step {
				hs, regID = r.HS, r.RegID
			}
		} else if hs == 0 {
			hs, regID = r.HS, r.RegID
		}
	}
	if hs == 0 {
		return "", nil // the trace starts no handshake (a flood, say)
	}
	var keep []trace.Record
	in := false
	for _, r := range recs {
		if r.Step == sim.StepStart.String() && r.RegID == regID {
			in = r.HS == hs
		}
		if in && (r.RegID == regID || r.Recv != nil && r.Recv.RegID == regID || r.Sent != nil && r.Sent.RegID == regID) {
			keep = append(keep, r)
		}
	}
	return sim.Mermaid(hs, regID, keep, end.Violations...), nil
}
