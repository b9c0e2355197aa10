package main

import (
	"bufio"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/adversary"
	"github.com/verishake/verishake/protocol"
)

func TestExploreAddrMustBeLoopback(t *testing.T) {
	for _, c := range []struct {
		addr   string
		remote bool
		want   string // "" accepted, else part of the error
	}{
		{"127.0.0.1:0", false, ""},
		{"localhost:3710", false, ""},
		{"[::1]:3710", false, ""},
		{":3710", false, "every interface"},
		{"0.0.0.0:3710", false, "--allow-remote"},
		{"192.0.2.1:3710", false, "not a loopback address"},
		{"192.0.2.1:3710", true, ""},
		{"127.0.0.1", false, "want host:port"},
		{"127.0.0.1:http", false, "not a number"},
		{"127.0.0.1:70000", false, "not a number"},
	} {
		err := checkListenAddr(c.addr, c.remote)
		if c.want == "" {
			require.NoError(t, err, c.addr)
		} else {
			require.ErrorContains(t, err, c.want, c.addr)
		}
	}
	status, out, errOut := runCLI("explore", "--addr", "0.0.0.0:0")
	require.Equal(t, exitUsage, status)
	require.Empty(t, out)
	require.Equal(t, 1, strings.Count(errOut, "\n"), errOut)
	require.Contains(t, errOut, "verishake explore: --addr:")
}

// exploreTestServer serves the explorer of the patent with losses and
// duplicates off, and the counterexamples check writes for it.
func exploreTestServer(t *testing.T) (*httptest.Server, string) {
	t.Helper()
	dir := t.TempDir()
	status, _, errOut := runCLI("check", "--profile", "patent", "--losses", "0", "--dups", "0", "--cex", dir)
	require.Equal(t, exitViolation, status, errOut)
	b := defaultBounds
	b.Losses, b.Dups = 0, 0
	model, err := newWebModel(checkJob{profile: protocol.Patent(), b: b, caps: adversary.Default(), agree: true, symmetry: true, rename: true})
	require.NoError(t, err)
	srv := httptest.NewServer(newExploreServer(model, dir, false, slog.New(slog.NewTextHandler(io.Discard, nil))))
	t.Cleanup(srv.Close)
	return srv, dir
}

// getJSON makes the request and decodes a 200's body into into; it
// returns the status and the body, or for an error its reason.
func getJSON(t *testing.T, req *http.Request, into any) (int, string) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.Equal(t, "application/json", res.Header.Get("Content-Type"), string(body))
	if res.StatusCode != http.StatusOK {
		var e struct{ Error string }
		require.NoError(t, json.Unmarshal(body, &e), string(body))
		require.NotEmpty(t, e.Error, "an error names its reason")
		return res.StatusCode, e.Error
	}
	if into != nil {
		require.NoError(t, json.Unmarshal(body, into), string(body))
	}
	return res.StatusCode, string(body)
}

func get(t *testing.T, url string, into any) (int, string) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	return getJSON(t, req, into)
}

// Bad input to the API is a 400 that says what was wrong, never a crash.
func TestExploreAPIRejectsBadInput(t *testing.T) {
	srv, _ := exploreTestServer(t)
	for _, c := range []struct {
		url    string
		status int
		reason string
	}{
		{"/api/state?path=0,99", 400, "path[1] = 99: that state enables"},
		{"/api/state?path=x", 400, `path[0] = "x"`},
		{"/api/state?path=-1", 400, `path[0] = "-1"`},
		{"/api/state?path=0,,1", 400, `path[1] = ""`},
		{"/api/state?path=" + strings.Repeat("0,", maxPath) + "0", 400, "at most 4096"},
		{"/api/cex/..%2F..%2Fetc%2Fpasswd", 400, "want the path of a .jsonl file"},
		{"/api/cex/sub/..%2F..%2Fx.jsonl", 400, "want the path of a .jsonl file"},
		{"/api/cex/.hidden.jsonl", 400, "want the path of a .jsonl file"},
		{"/api/cex/missing.jsonl", 404, "no such file"},
		{"/api/cex/patent-c1-s1-l0-d0-i1-r1-k1-AUTH-S.jsonl?step=7", 400, "want a number in 0..6"},
		{"/api/cex/patent-c1-s1-l0-d0-i1-r1-k1-AUTH-S.jsonl?step=-1", 400, "want a number in 0..6"},
		{"/api/cex/patent-c1-s1-l0-d0-i1-r1-k1-AUTH-S.jsonl?step=two", 400, "want a number in 0..6"},
	} {
		status, body := get(t, srv.URL+c.url, nil)
		require.Equal(t, c.status, status, "%s: %s", c.url, body)
		require.Contains(t, body, c.reason, c.url)
	}
	// Not a trace; a trace that does not replay.
	for _, c := range []struct{ body, reason string }{
		{"hello", "malformed trace"},
		{`{"type":"header","schema":99}`, "schema 99"},
	} {
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/api/cex", strings.NewReader(c.body))
		require.NoError(t, err)
		status, body := getJSON(t, req, nil)
		require.Equal(t, http.StatusBadRequest, status, body)
		require.Contains(t, body, c.reason)
	}
	// A trace asking for a world too large to build.
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/api/cex", strings.NewReader(`{"type":"header","schema":1,"config":{"clients":1000000000}}`+"\n"))
	require.NoError(t, err)
	status, body := getJSON(t, req, nil)
	require.Equal(t, http.StatusBadRequest, status, body)
	require.Contains(t, body, "1000000000 clients")
	// A POST from another page's origin.
	req, err = http.NewRequest(http.MethodPost, srv.URL+"/api/cex", strings.NewReader("x"))
	require.NoError(t, err)
	req.Header.Set("Origin", "http://attacker.example")
	status, body = getJSON(t, req, nil)
	require.Equal(t, http.StatusForbidden, status, body)
	require.Contains(t, body, "its own page only")
	// A page that rebinds its DNS name to 127.0.0.1 is refused.
	req, err = http.NewRequest(http.MethodGet, srv.URL+"/api/model", nil)
	require.NoError(t, err)
	req.Host = "attacker.example:80"
	status, body = getJSON(t, req, nil)
	require.Equal(t, http.StatusForbidden, status, body)
}

// Traces in a run's own subdirectory are listed and open by their path;
// a link that leads out of the directory does not.
func TestExploreTracesInSubdirectories(t *testing.T) {
	srv, dir := exploreTestServer(t)
	sub := filepath.Join(dir, "run-1")
	require.NoError(t, os.Mkdir(sub, 0o755))
	require.NoError(t, os.Rename(filepath.Join(dir, "patent-c1-s1-l0-d0-i1-r1-k1-LIVE.jsonl"), filepath.Join(sub, "patent-c1-s1-l0-d0-i1-r1-k1-LIVE.jsonl")))
	outside := filepath.Join(t.TempDir(), "outside.jsonl")
	require.NoError(t, os.WriteFile(outside, []byte("{}"), 0o644))
	require.NoError(t, os.Symlink(outside, filepath.Join(sub, "link.jsonl")))
	var list []cexEntry
	status, body := get(t, srv.URL+"/api/cex", &list)
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `"run-1/patent-c1-s1-l0-d0-i1-r1-k1-LIVE.jsonl"`)
	var v cexView
	status, body = get(t, srv.URL+"/api/cex/run-1/patent-c1-s1-l0-d0-i1-r1-k1-LIVE.jsonl?step=1", &v)
	require.Equal(t, http.StatusOK, status, body)
	require.Equal(t, "LIVE", v.Target)
	status, body = get(t, srv.URL+"/api/cex/run-1/link.jsonl", nil)
	require.Equal(t, http.StatusNotFound, status, body)
}

// An uploaded trace opens as one from the directory does.
func TestExploreUploadsATrace(t *testing.T) {
	srv, dir := exploreTestServer(t)
	data, err := os.ReadFile(filepath.Join(dir, "patent-c1-s1-l0-d0-i1-r1-k1-CMD.jsonl"))
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/api/cex", strings.NewReader(string(data)))
	require.NoError(t, err)
	var up cexEntry
	status, body := getJSON(t, req, &up)
	require.Equal(t, http.StatusOK, status, body)
	require.Equal(t, "upload-1", up.Name)
	var v cexView
	status, body = get(t, srv.URL+"/api/cex/upload-1", &v)
	require.Equal(t, http.StatusOK, status, body)
	require.Equal(t, "CMD", v.Target)
	require.Equal(t, v.Total, v.Step, "without ?step the trace opens at its end")
	var list []cexEntry
	status, body = get(t, srv.URL+"/api/cex", &list)
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, list, cexEntry{Name: "upload-1"})
}

// The explorer judges a path as check does: at the end of each of check's
// counterexamples the page shows the property it was written for
// violated, and at its start every property holding.
func TestExploreJudgesCounterexamplesAsCheck(t *testing.T) {
	srv, dir := exploreTestServer(t)
	files, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	require.NoError(t, err)
	require.Len(t, files, 5, "the patent violates AUTH-S, CMD, BOUNDED, LIVE and AGREE at these bounds")
	for _, f := range files {
		name := filepath.Base(f)
		var end, start cexView
		status, body := get(t, srv.URL+"/api/cex/"+name, &end)
		require.Equal(t, http.StatusOK, status, body)
		status, body = get(t, srv.URL+"/api/cex/"+name+"?step=0", &start)
		require.Equal(t, http.StatusOK, status, body)
		for _, p := range start.State.Properties {
			require.Equal(t, verdictHolds, p.Verdict, "%s at step 0: %s", name, p.ID)
		}
		found := false
		for _, p := range end.State.Properties {
			if p.ID == end.Target {
				found = true
				require.Equal(t, verdictViolated, p.Verdict, "%s: %s at the last step", name, p.ID)
				require.NotEmpty(t, p.Reason)
			}
		}
		require.True(t, found, "%s: target %q among the properties", name, end.Target)
		require.Contains(t, end.State.Diagram, end.Target+" VIOLATED", name)
	}
}

// Taking steps: a path of indices gives the world at its end, and what the
// last step changed.
func TestExploreStatePath(t *testing.T) {
	srv, _ := exploreTestServer(t)
	var root stateView
	status, body := get(t, srv.URL+"/api/state", &root)
	require.Equal(t, http.StatusOK, status, body)
	require.Equal(t, "Idle", root.Clients[0].State)
	require.Empty(t, root.Changes)
	start := -1
	for _, e := range root.Enabled {
		if e.Kind == "start" {
			start = e.Index
		}
	}
	require.GreaterOrEqual(t, start, 0, "the initial world enables a start")
	var after stateView
	status, body = get(t, srv.URL+"/api/state?path="+strconv.Itoa(start), &after)
	require.Equal(t, http.StatusOK, status, body)
	require.Equal(t, "AwaitValidation", after.Clients[0].State)
	require.Len(t, after.InFlight, 1)
	require.Equal(t, "Hello", after.InFlight[0].Kind)
	require.Contains(t, after.Changes, changeView{Key: "client:1", What: "changed", Text: "client 1: AwaitValidation tc=#1 ts= tries=1 deadline= seq=0"})
	require.Contains(t, after.Diagram, `data-n="1"`)
}

// The command serves the page on the address it prints, and stops
// cleanly when told to.
func TestExploreCommandServes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	old := exploreContext
	exploreContext = func() (context.Context, context.CancelFunc) { return ctx, cancel }
	defer func() { exploreContext = old }()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	var errOut strings.Builder
	go func() {
		done <- run([]string{"explore", "--profile", "patent", "--addr", "127.0.0.1:0", "--cex", t.TempDir()}, pw, &errOut)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err)
	go io.Copy(io.Discard, pr)
	require.Contains(t, line, "verishake explore: patent at http://127.0.0.1:")
	url := strings.Fields(line)[4]
	res, err := http.Get(url)
	require.NoError(t, err)
	page, err := io.ReadAll(res.Body)
	res.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, string(page), `<script src="/static/app.js">`)
	for _, asset := range []string{"static/app.js", "static/style.css"} {
		res, err := http.Get(url + asset)
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, http.StatusOK, res.StatusCode, asset)
	}
	cancel()
	require.Equal(t, exitOK, <-done, errOut.String())
}

// Every counterexample's diagram is well-formed SVG with one row per step.
func TestExploreDiagramIsSVG(t *testing.T) {
	srv, dir := exploreTestServer(t)
	files, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		var v cexView
		status, body := get(t, srv.URL+"/api/cex/"+filepath.Base(f), &v)
		require.Equal(t, http.StatusOK, status, body)
		d := xml.NewDecoder(strings.NewReader(v.State.Diagram))
		rows := 0
		for {
			tok, err := d.Token()
			if err == io.EOF {
				break
			}
			require.NoError(t, err, "%s: %s", f, v.State.Diagram)
			if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "g" {
				rows++
			}
		}
		require.Equal(t, v.Total, rows, "%s: a row per step", f)
	}
}
