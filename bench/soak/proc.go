package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// server is one `verishake serve` process under test, restarted on the
// same loopback ports so that clients find it again.
type server struct {
	env           *env
	name, store   string
	addr, metrics string
	cmd           *exec.Cmd
	starts        int
}

// freePort returns a loopback address with a port that was free a moment ago.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func newServer(e *env, name, store string) (*server, error) {
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	metrics, err := freePort()
	if err != nil {
		return nil, err
	}
	return &server{env: e, name: name, store: store, addr: addr, metrics: metrics}, nil
}

func (s *server) url() string { return "http://" + s.addr }

// start runs the server and waits (at most 10 s) until it accepts.
func (s *server) start() error {
	s.starts++
	args := []string{"serve", "--addr", s.addr, "--push", s.env.sink.url, "--project", "soak", "--bearer", sinkBearer,
		"--metrics", s.metrics, "--max-conns", "2048"}
	if s.store != "" {
		args = append(args, "--store", s.store)
	}
	logf, err := os.OpenFile(filepath.Join(s.env.dir, s.name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	fmt.Fprintf(logf, "--- start %d\n", s.starts)
	s.cmd = exec.Command(s.env.bin, args...)
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		return err
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", s.addr); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("%s did not accept on %s within 10 s (see %s.log)", s.name, s.addr, s.name)
}

// kill ends the server with SIGKILL: no shutdown, no flush, as a crash.
func (s *server) kill() error {
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return err
	}
	_ = s.cmd.Wait() // "signal: killed" is the point
	return nil
}

// stop ends the server with SIGTERM and waits for its clean exit.
func (s *server) stop() error {
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	if err := s.cmd.Wait(); err != nil {
		return fmt.Errorf("%s: %w (see %s.log)", s.name, err, s.name)
	}
	return nil
}

// metric returns the value of the sample named exactly series (name and
// labels as the text format writes them) from the server's /metrics.
func (s *server) metric(series string) (float64, error) {
	resp, err := http.Get("http://" + s.metrics + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			return strconv.ParseFloat(v, 64)
		}
	}
	return 0, fmt.Errorf("%s: no sample %s", s.name, series)
}
