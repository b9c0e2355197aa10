package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/adversary"
	"github.com/verishake/verishake/protocol"
)

// findChromium returns a Chromium or Chrome binary: $VERISHAKE_CHROMIUM,
// else the first on $PATH. The test installs none (.ci/run does).
func findChromium() (string, bool) {
	if p := os.Getenv("VERISHAKE_CHROMIUM"); p != "" {
		return p, true
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, true
		}
	}
	return "", false
}

// artifactDir is where the test keeps its screenshots:
// $VERISHAKE_ARTIFACTS when set (CI keeps them there), else the test's
// temporary directory.
func artifactDir(t *testing.T) string {
	if d := os.Getenv("VERISHAKE_ARTIFACTS"); d != "" {
		require.NoError(t, os.MkdirAll(d, 0o755))
		return d
	}
	return t.TempDir()
}

// The web explorer, end to end in headless Chromium: the page loads with
// the initial world, a start and a delivery change what it shows of the
// client, the network and the server, Back undoes the delivery, and a
// counterexample from check --cex opens, steps to its violation and shows
// it in the properties, the changes and the diagram.
func TestExplorerInBrowser(t *testing.T) {
	chromium, ok := findChromium()
	if !ok {
		if os.Getenv("VERISHAKE_REQUIRE_BROWSER") != "" {
			t.Fatal("VERISHAKE_REQUIRE_BROWSER is set and no chromium binary is on $PATH (set VERISHAKE_CHROMIUM)")
		}
		t.Skip("no chromium binary on $PATH (apt-get install chromium, or set VERISHAKE_CHROMIUM); .ci/run installs it")
	}
	cexDir := t.TempDir()
	status, _, errOut := runCLI("check", "--profile", "patent", "--losses", "0", "--dups", "0", "--cex", cexDir)
	require.Equal(t, exitViolation, status, errOut)
	require.FileExists(t, filepath.Join(cexDir, "patent-c1-s1-l0-d0-i1-r1-k1-AUTH-S.jsonl"))

	b := defaultBounds
	b.Losses, b.Dups = 0, 0
	model, err := newWebModel(checkJob{profile: protocol.Patent(), b: b, caps: adversary.Default(), agree: true, symmetry: true, rename: true})
	require.NoError(t, err)
	srv := httptest.NewServer(newExploreServer(model, cexDir, false, slog.New(slog.NewTextHandler(io.Discard, nil))))
	defer srv.Close()

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1680, 1200),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()

	// until waits for a condition in the page, in JavaScript.
	until := func(js string) chromedp.Action[chromedp.Void] {
		return chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(20*time.Second))
	}
	text := func(sel string) string {
		s, err := chromedp.Run(bctx, chromedp.TextContent(chromedp.CSS(sel)))
		require.NoError(t, err, sel)
		return s
	}
	count := func(sel string) int {
		n, err := chromedp.Run(bctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)))
		require.NoError(t, err, sel)
		return n
	}
	has := func(sel, want string) string {
		return fmt.Sprintf(`(document.querySelector(%q) || {textContent: ""}).textContent.includes(%q)`, sel, want)
	}

	// The initial world: one idle client, nothing in flight, every
	// property holding, the start among the enabled steps.
	require.NoError(t, chromedp.Do(bctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#enabled button[data-kind="start"]`)),
	))
	require.Contains(t, text("#clients tbody"), "Idle")
	require.Contains(t, text("#inflight tbody"), "nothing in flight")
	require.Contains(t, text("#model"), "patent")
	require.NotContains(t, text("#props tbody"), "violated")

	// Start: the client awaits the Validation, its Hello is in flight.
	require.NoError(t, chromedp.Do(bctx,
		chromedp.Click(chromedp.CSS(`#enabled button[data-kind="start"]`)),
		until(has("#clients tbody", "AwaitValidation")),
	))
	require.Contains(t, text("#inflight tbody"), "Hello{RegID:1 Tc:#1}")
	require.Equal(t, 2, count("#clients tr.changed, #inflight tr.new"), "the client's row is marked changed and the Hello's new")

	// Deliver the Hello: the server opens a pending session and answers.
	require.NoError(t, chromedp.Do(bctx,
		chromedp.Click(chromedp.CSS(`#enabled button[data-kind="deliver"]`)),
		until(has("#slots tbody", "AwaitConfirm1")),
	))
	require.Contains(t, text("#inflight tbody"), "Validation{RegID:1 Tc:#1 Ts:#2}")
	require.Contains(t, text("#changes"), "gone: in flight: #1 Hello")
	require.Contains(t, text("#diagram"), "Hello #1", "the diagram draws the delivered Hello")
	require.Contains(t, text("#taken"), "deliver Hello #1 → server 1")

	// Back: the delivery is undone.
	require.NoError(t, chromedp.Do(bctx,
		chromedp.Click(chromedp.CSS(`#back`)),
		until(has("#slots tbody", "no session kept")),
	))
	require.Contains(t, text("#inflight tbody"), "Hello{RegID:1 Tc:#1}")
	require.Contains(t, text("#clients tbody"), "AwaitValidation")

	dir := artifactDir(t)
	shot := func(name string) {
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		require.NoError(t, err)
		require.Greater(t, len(png), 10_000, "a screenshot of a drawn page")
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, png, 0o644))
		t.Logf("screenshot: %s", path)
	}
	shot("explore-steps.png")

	// A counterexample: AUTH-S on the patent, opened at its start, then
	// stepped to its last step, where the server's Commit violates it.
	require.NoError(t, chromedp.Do(bctx,
		until(has("#cex-list", "patent-c1-s1-l0-d0-i1-r1-k1-AUTH-S.jsonl")),
		chromedp.SetValue(chromedp.CSS(`#cex-list`), "patent-c1-s1-l0-d0-i1-r1-k1-AUTH-S.jsonl"),
		chromedp.Click(chromedp.CSS(`#cex-open`)),
		until(has("#cex-step", "step 0 of 6")),
	))
	require.Contains(t, text("#mode"), "counterexample")
	require.Contains(t, text("#cex-verdicts"), "AUTH-S violated at step 6")
	require.NotContains(t, text("#props tbody"), "violated", "nothing is violated before the first step")
	require.NoError(t, chromedp.Do(bctx,
		chromedp.Click(chromedp.CSS(`#cex-next`)),
		until(has("#cex-step", "step 1 of 6")),
		chromedp.Click(chromedp.CSS(`#cex-last`)),
		until(has("#cex-step", "step 6 of 6")),
	))
	verdict, current := text(`#props tr[data-prop="AUTH-S"]`), text(`#diagram .seq-row.current`)
	require.Contains(t, verdict, "violated")
	require.Contains(t, verdict, "Commit(server, 1")
	require.Contains(t, current, "AUTH-S VIOLATED", "the highlighted row of the diagram is the violating step")
	// The patent's server verifies the replayed Confirm1 again: a Running
	// and a Commit, the claims step 6 adds and the only ones marked new.
	require.Equal(t, 2, count("#claims tr.new"), "the claims of step 6 are marked new")
	require.Contains(t, text("#claims tr.new:last-child"), "Commit(server, 1, Tc=#1, Ts=#2)")
	require.True(t, strings.Contains(text("#taken li.current"), "6."), "the step list marks step 6")
	// The replayed Confirm1 takes the patent's Reconfirm1 row, for the
	// first time on this path.
	require.Contains(t, text("#coverage tr.new"), "Reconfirm1")

	// The whole space's coverage: with one session per client, no client
	// starts again once verified.
	require.NoError(t, chromedp.Do(bctx,
		chromedp.Click(chromedp.CSS(`#coverage-space`)),
		until(has("#coverage-space-out", "random walks reach")),
	))
	require.Contains(t, text("#never-taken"), "client Verified --Start--> AwaitValidation")
	require.Contains(t, text("#coverage-space-out"), "The whole space: 672 states", "the states check counts at these bounds")
	shot("explore-counterexample.png")
}
