package main

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/verishake/verishake/adversary"
	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/sim/explore"
)

func init() {
	register(command{
		name: "explore",
		usage: "[--profile P] [--variant V] [--clients N] [--sessions K] [--losses L] [--dups D] [--injects I] [--retries R]\n" +
			"       [--retransmits G] [--commands C] [--adversary CAPS] [--agree=false] [--cex DIR] [--addr 127.0.0.1:PORT] [--allow-remote]",
		summary: "a local web explorer: take steps from the initial world, go back, open and step through counterexamples",
		run:     runExplore,
	})
}

// webAssets are the explorer's page, script and style: every byte it
// serves comes from the binary, so it works with no network.
//
//go:embed web
var webAssets embed.FS

// defaultExploreAddr is where the explorer listens without --addr.
const defaultExploreAddr = "127.0.0.1:3710"

// maxUpload bounds a trace sent to the explorer, and maxUploads how many
// it keeps (the oldest go first).
const (
	maxUpload  = 16 << 20
	maxUploads = 32
)

func runExplore(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("explore", stderr)
	profile := fs.String("profile", "hardened", "profile: patent or hardened")
	variant := fs.String("variant", "", "variant of the profile (see verishake variants)")
	b := boundFlags(fs, defaultBounds)
	caps := fs.String("adversary", "default", "adversary capabilities, as check takes them")
	agree := fs.Bool("agree", true, "judge AGREE on every state shown")
	cex := fs.String("cex", filepath.Join(os.TempDir(), "verishake-cex"), "directory of counterexample traces to offer (check --cex writes there)")
	addr := fs.String("addr", defaultExploreAddr, "address to listen on, host:port (a loopback address unless --allow-remote)")
	allowRemote := fs.Bool("allow-remote", false, "allow a non-loopback --addr: anyone who reaches it can use the explorer")
	if status, ok := parseFlags(fs, args, 0, stderr); !ok {
		return status
	}
	p, err := resolveProfile(*profile, *variant)
	if err != nil {
		return usagef(stderr, "explore", "%v", err)
	}
	if err := validateBounds(*b); err != nil {
		return usagef(stderr, "explore", "%v", err)
	}
	c, err := adversary.ParseCapabilities(*caps)
	if err != nil {
		return usagef(stderr, "explore", "--adversary: %v", err)
	}
	if err := checkListenAddr(*addr, *allowRemote); err != nil {
		return usagef(stderr, "explore", "--addr: %v", err)
	}
	model, err := newWebModel(checkJob{profile: p, variant: *variant, b: *b, caps: c, agree: *agree, symmetry: true, rename: true})
	if err != nil {
		return usagef(stderr, "explore", "%v", err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return usagef(stderr, "explore", "--addr: %v", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	srv := &http.Server{Handler: newExploreServer(model, *cex, *allowRemote, log), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := exploreContext()
	defer stop()
	fmt.Fprintf(stdout, "verishake explore: %s at http://%s/ (Ctrl-C to stop)\n", model.label, ln.Addr())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		fmt.Fprintf(stderr, "verishake explore: %v\n", err)
		return exitUsage
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shut); err != nil {
		fmt.Fprintf(stderr, "verishake explore: shutdown: %v\n", err)
	}
	return exitOK
}

// exploreContext is done when the explorer should stop: on Ctrl-C or
// SIGTERM (a test stops it its own way).
var exploreContext = func() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// checkListenAddr refuses an address that is not host:port with a
// loopback host, unless remote use is allowed.
func checkListenAddr(addr string, allowRemote bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q: want host:port, e.g. %s", addr, defaultExploreAddr)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("%q: port %q is not a number in 0..65535", addr, port)
	}
	if allowRemote || loopbackHost(host) {
		return nil
	}
	if host == "" {
		return fmt.Errorf("%q listens on every interface: name a loopback host (127.0.0.1), or pass --allow-remote", addr)
	}
	return fmt.Errorf("%q is not a loopback address: pass --allow-remote to serve it to other machines", addr)
}

func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// exploreServer serves the page and its JSON API.
type exploreServer struct {
	model       *webModel
	cexDir      string
	allowRemote bool
	log         *slog.Logger
	mux         *http.ServeMux

	mu      sync.Mutex
	uploads map[string]*traceCex
	order   []string
	next    int

	covMu sync.Mutex
	cov   *coverageReport // the whole space's, once asked for
}

func newExploreServer(model *webModel, cexDir string, allowRemote bool, log *slog.Logger) *exploreServer {
	s := &exploreServer{model: model, cexDir: cexDir, allowRemote: allowRemote, log: log, mux: http.NewServeMux(), uploads: map[string]*traceCex{}}
	static, err := fs.Sub(webAssets, "web")
	if err != nil {
		panic(err) // the embedded tree is part of the binary
	}
	s.mux.Handle("GET /{$}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		http.ServeFileFS(w, r, static, "index.html")
	}))
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	s.mux.HandleFunc("GET /api/model", s.handleModel)
	s.mux.HandleFunc("GET /api/state", s.handleState)
	s.mux.HandleFunc("GET /api/cex", s.handleCexList)
	s.mux.HandleFunc("POST /api/cex", s.handleUpload)
	s.mux.HandleFunc("GET /api/cex/{name...}", s.handleCex)
	s.mux.HandleFunc("GET /api/coverage", s.handleCoverage)
	return s
}

// ServeHTTP refuses requests for a host that is not a loopback name (a
// page elsewhere that rebinds its DNS name to 127.0.0.1 must not drive
// the explorer), and answers a handler's panic with a 500, not a crash.
func (s *exploreServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("explore: request failed", "method", r.Method, "url", r.URL.String(), "panic", v)
			writeError(w, http.StatusInternalServerError, fmt.Sprintf("internal error: %v", v))
		}
	}()
	if !s.allowRemote {
		host := r.Host
		if h, _, err := net.SplitHostPort(r.Host); err == nil {
			host = h
		}
		if !loopbackHost(strings.Trim(host, "[]")) {
			writeError(w, http.StatusForbidden, fmt.Sprintf("host %q is not a loopback name; start the explorer with --allow-remote to serve it", r.Host))
			return
		}
	}
	if origin := r.Header.Get("Origin"); r.Method != http.MethodGet && r.Method != http.MethodHead && origin != "" && origin != "http://"+r.Host {
		// A page elsewhere may send a POST here (its browser sets Host to
		// this server); its Origin gives it away.
		writeError(w, http.StatusForbidden, fmt.Sprintf("a %s from origin %q: the explorer takes changes from its own page only", r.Method, origin))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	s.mux.ServeHTTP(w, r)
}

type modelView struct {
	Label      string   `json:"label"`
	Bounds     bounds   `json:"bounds"`
	Adversary  string   `json:"adversary"`
	Properties []string `json:"properties"`
	CexDir     string   `json:"cex_dir"`
}

func (s *exploreServer) handleModel(w http.ResponseWriter, r *http.Request) {
	adv := "none"
	if s.model.withAdv {
		adv = s.model.job.caps.String()
	}
	v := modelView{Label: s.model.label, Bounds: s.model.job.b, Adversary: adv, CexDir: s.cexDir}
	for _, id := range explore.Properties {
		if id != protocol.Agree || s.model.job.agree {
			v.Properties = append(v.Properties, id)
		}
	}
	writeJSON(w, v)
}

// parsePath reads ?path=3,0,2: the index of each step among those enabled.
func parsePath(q string) ([]int, error) {
	if q == "" {
		return nil, nil
	}
	parts := strings.Split(q, ",")
	if len(parts) > maxPath {
		return nil, fmt.Errorf("path: %d steps, at most %d", len(parts), maxPath)
	}
	path := make([]int, len(parts))
	for i, p := range parts {
		k, err := strconv.Atoi(p)
		if err != nil || k < 0 {
			return nil, fmt.Errorf("path[%d] = %q: want a step index, a number from 0", i, p)
		}
		path[i] = k
	}
	return path, nil
}

func (s *exploreServer) handleState(w http.ResponseWriter, r *http.Request) {
	path, err := parsePath(r.URL.Query().Get("path"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	cur, err := s.model.follow(path)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	v := cur.view(s.model.label, true)
	v.Diagram = cur.diagram()
	if len(path) > 0 {
		prev, err := s.model.follow(path[:len(path)-1])
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		v.Changes = diff(prev.view(s.model.label, false), v)
	}
	writeJSON(w, v)
}

// coverageWalks is how many random walks the page's coverage compares
// with the exhaustive walk.
const coverageWalks = 1000

// handleCoverage walks the whole state space once (the first request
// waits for it) and answers check --coverage's report.
func (s *exploreServer) handleCoverage(w http.ResponseWriter, r *http.Request) {
	s.covMu.Lock()
	defer s.covMu.Unlock()
	if s.cov == nil {
		c, err := s.model.job.coverage(r.Context(), coverageWalks, 1)
		if err != nil {
			writeError(w, http.StatusServiceUnavailable, err.Error())
			return
		}
		s.cov = c
	}
	writeJSON(w, s.cov)
}

type cexEntry struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
}

// handleCexList lists the traces in the counterexample directory, and
// in its subdirectories (a run's own), and those uploaded.
func (s *exploreServer) handleCexList(w http.ResponseWriter, r *http.Request) {
	out := []cexEntry{}
	if root, err := os.OpenRoot(s.cexDir); err == nil {
		_ = fs.WalkDir(root.FS(), ".", func(path string, d fs.DirEntry, err error) error {
			switch {
			case err != nil:
				return nil // an unreadable entry is left out
			case d.IsDir() && strings.Count(path, "/") >= maxCexDepth:
				return fs.SkipDir
			case len(out) >= maxCexList:
				return fs.SkipAll
			}
			if info, err := d.Info(); err == nil && info.Mode().IsRegular() && validTraceName(path) {
				out = append(out, cexEntry{path, info.Size()})
			}
			return nil
		})
		root.Close()
	}
	s.mu.Lock()
	for _, n := range s.order {
		out = append(out, cexEntry{Name: n})
	}
	s.mu.Unlock()
	writeJSON(w, out)
}

// The counterexample directory is listed to this depth, and this many
// traces at most.
const (
	maxCexDepth = 3
	maxCexList  = 1000
)

// validTraceName accepts the path of a .jsonl file under the directory,
// slash-separated, with no part that is empty, hidden or "..": the
// directory is opened as an os.Root besides, which no path escapes.
func validTraceName(name string) bool {
	if !strings.HasSuffix(name, ".jsonl") || strings.Contains(name, `\`) {
		return false
	}
	for _, part := range strings.Split(name, "/") {
		if part == "" || strings.HasPrefix(part, ".") {
			return false
		}
	}
	return true
}

func (s *exploreServer) handleUpload(w http.ResponseWriter, r *http.Request) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxUpload))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("trace larger than %d bytes", maxUpload))
		return
	case err != nil:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("reading the trace: %v", err))
		return
	}
	s.mu.Lock()
	s.next++
	name := fmt.Sprintf("upload-%d", s.next)
	s.mu.Unlock()
	c, err := loadTrace(name, data)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.mu.Lock()
	s.uploads[name] = c
	s.order = append(s.order, name)
	if len(s.order) > maxUploads {
		delete(s.uploads, s.order[0])
		s.order = slices.Delete(s.order, 0, 1)
	}
	s.mu.Unlock()
	writeJSON(w, cexEntry{Name: name, Size: int64(len(data))})
}

func (s *exploreServer) handleCex(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	c, status, err := s.trace(name)
	if err != nil {
		writeError(w, status, err.Error())
		return
	}
	step := len(c.steps)
	if q := r.URL.Query().Get("step"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 0 || n > len(c.steps) {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("step %q: want a number in 0..%d (the trace has %d steps)", q, len(c.steps), len(c.steps)))
			return
		}
		step = n
	}
	v, err := c.view(step)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, v)
}

// trace finds an uploaded trace or reads one from the directory.
func (s *exploreServer) trace(name string) (*traceCex, int, error) {
	s.mu.Lock()
	c, ok := s.uploads[name]
	s.mu.Unlock()
	if ok {
		return c, 0, nil
	}
	if !validTraceName(name) {
		return nil, http.StatusBadRequest, fmt.Errorf("trace %q: want the path of a .jsonl file under %s, or the name of an upload", name, s.cexDir)
	}
	root, err := os.OpenRoot(s.cexDir)
	if err != nil {
		return nil, http.StatusNotFound, fmt.Errorf("trace %q: %w", name, err)
	}
	defer root.Close()
	f, err := root.Open(name)
	if err != nil {
		return nil, http.StatusNotFound, fmt.Errorf("trace %q: no such file in %s", name, s.cexDir)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxUpload+1))
	if err != nil {
		return nil, http.StatusBadRequest, fmt.Errorf("trace %q: %w", name, err)
	}
	if len(data) > maxUpload {
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("trace %q: larger than %d bytes", name, maxUpload)
	}
	c, err = loadTrace(name, data)
	if err != nil {
		return nil, http.StatusBadRequest, err
	}
	return c, 0, nil
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, status int, reason string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]string{"error": "explore: " + reason})
	w.Write(append(b, '\n'))
}
