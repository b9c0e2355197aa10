package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/trace"
)

// writeLog records each Write call to it; calls listed in fail fail,
// after writing the number of bytes given.
type writeLog struct {
	calls [][]byte
	fail  map[int]int
	out   bytes.Buffer
}

var errDiskFull = errors.New("no space left on device")

func (w *writeLog) Write(p []byte) (int, error) {
	i := len(w.calls)
	w.calls = append(w.calls, bytes.Clone(p))
	if n, bad := w.fail[i]; bad {
		w.out.Write(p[:n])
		return n, errDiskFull
	}
	return w.out.Write(p)
}

func traceStep(n int) Step {
	return Step{Role: protocol.RoleServer, RegID: protocol.RegID(n), Time: protocol.Time(n), Input: InputExpire, State: uint8(protocol.SessionVerified)}
}

// TestTraceWriterWritesEachRecordWhole: a killed process loses no step it
// took, because each record is handed to the writer, whole and on its own
// line, before Step returns.
func TestTraceWriterWritesEachRecordWhole(t *testing.T) {
	w := &writeLog{}
	tw, err := NewTraceWriter(w, protocol.Hardened())
	require.NoError(t, err)
	for i := 1; i <= 3; i++ {
		tw.Step(traceStep(i))
		require.Len(t, w.calls, 1+i, "step %d is written when Step returns", i)
		last := w.calls[len(w.calls)-1]
		require.True(t, bytes.HasSuffix(last, []byte("\n")), "one whole line per write")
		var rec trace.Record
		require.NoError(t, json.Unmarshal(last, &rec))
		require.Equal(t, uint64(i), rec.N)
	}
	require.NoError(t, tw.Close())
	require.Len(t, w.calls, 5, "header, three steps, end")
}

// TestTraceWriterGoesOnAfterWriteErrors: a full disk loses the records
// written while it is full and no others; the failure and the recovery are
// logged, a record cut in the middle is ended so that the next starts its
// own line, and validate's reader names both gaps.
func TestTraceWriterGoesOnAfterWriteErrors(t *testing.T) {
	// Writes: 0 header, 1 step 1, 2 step 2 (cut after 10 bytes), 3 step 3
	// (nothing written), 4 step 4, 5 step 5, 6 end.
	w := &writeLog{fail: map[int]int{2: 10, 3: 0}}
	var logs bytes.Buffer
	tw, err := newTraceWriter(w, protocol.Hardened(), slog.New(slog.NewTextHandler(&logs, nil)), "server.jsonl", false)
	require.NoError(t, err)
	for i := 1; i <= 5; i++ {
		tw.Step(traceStep(i))
	}
	require.ErrorIs(t, tw.Err(), errDiskFull)
	require.Equal(t, uint64(2), tw.Lost())
	require.NoError(t, tw.Close(), "the end line is written: the trace is whole from step 4 on")
	require.Contains(t, logs.String(), "level=ERROR")
	require.Contains(t, logs.String(), "no space left on device")
	require.Contains(t, logs.String(), "lost=2")
	require.Equal(t, 2, strings.Count(logs.String(), "\n"), "one line when writes fail, one when they work again: %s", logs.String())

	lines, _, runs, warns, err := readTrace(0, TraceInput{Name: "server.jsonl", R: bytes.NewReader(w.out.Bytes())})
	require.NoError(t, err)
	require.Equal(t, 1, runs)
	var ns []uint64
	for _, l := range lines {
		ns = append(ns, l.rec.N)
	}
	require.Equal(t, []uint64{1, 4, 5}, ns)
	require.Len(t, warns, 2, "%v", warns)
	require.Equal(t, 3, warns[0].Line)
	require.Contains(t, warns[0].Reason, "cut short")
	require.Equal(t, 4, warns[1].Line)
	require.Contains(t, warns[1].Reason, "steps 2 to 3")

	// A trace that cannot start is the caller's error, not a log line.
	logs.Reset()
	_, err = newTraceWriter(&writeLog{fail: map[int]int{0: 0}}, protocol.Hardened(), slog.New(slog.NewTextHandler(&logs, nil)), "server.jsonl", false)
	require.ErrorIs(t, err, errDiskFull)
	require.ErrorContains(t, err, "server.jsonl")
	require.Empty(t, logs.String())
}

// TestValidateReadsPastCrashAndRestart: a server killed while writing its
// trace and restarted on the same file leaves a line cut short and then a
// second run; validate reads the file as both runs, with a warning naming
// the cut line, and finds what it finds in the two runs' separate files.
func TestValidateReadsPastCrashAndRestart(t *testing.T) {
	_, files := tracedRun(t)
	want, err := ValidateTraces(copyInputs(t, files))
	require.NoError(t, err)
	require.True(t, want.OK())

	first, err := readAll(files[0])
	require.NoError(t, err)
	second, err := readAll(files[1])
	require.NoError(t, err)
	devices, err := readAll(files[2])
	require.NoError(t, err)
	// The kill comes halfway through the first run's last line (its end
	// line); OpenTraceFile ends the cut line before the restart's header.
	lastLine := bytes.LastIndexByte(first[:len(first)-1], '\n') + 1
	cut := first[:lastLine+(len(first)-lastLine)/2]
	joined := append(append(append([]byte(nil), cut...), '\n'), second...)
	cutLine := bytes.Count(cut, []byte("\n")) + 1
	// The devices' process is killed in the middle of a step record.
	devLines := bytes.Split(bytes.TrimSuffix(devices, []byte("\n")), []byte("\n"))
	lastStep := devLines[len(devLines)-2]
	devCut := append(bytes.Join(devLines[:len(devLines)-2], []byte("\n")), '\n')
	devCut = append(devCut, lastStep[:len(lastStep)/2]...)

	got, err := ValidateTraces([]TraceInput{{Name: "server.jsonl", R: bytes.NewReader(joined)}, {Name: "devices.jsonl", R: bytes.NewReader(devCut)}})
	require.NoError(t, err)
	require.True(t, got.OK(), "%v", got.Violations)
	require.Equal(t, 3, got.Runs)
	require.Len(t, got.Warnings, 2, "%v", got.Warnings)
	require.Equal(t, TraceWarning{File: "server.jsonl", Line: cutLine, Reason: got.Warnings[0].Reason}, got.Warnings[0])
	require.Contains(t, got.Warnings[0].Reason, "cut short")
	require.Equal(t, "devices.jsonl", got.Warnings[1].File)
	require.Equal(t, len(devLines)-1, got.Warnings[1].Line)
	require.Equal(t, want.Verified, got.Verified)
	require.Equal(t, want.Steps-1, got.Steps, "all steps but the devices' cut one")
	require.Equal(t, want.Slots, got.Slots)
}

func copyInputs(t *testing.T, files []TraceInput) []TraceInput {
	out := make([]TraceInput, len(files))
	for i, in := range files {
		b, err := readAll(in)
		require.NoError(t, err)
		out[i] = TraceInput{Name: in.Name, R: bytes.NewReader(b)}
	}
	return out
}

// TestOpenTraceFileAppendsAndRefuses: a trace file is appended to, never
// truncated, and a file that is not a trace of this profile is refused and
// left as it is.
func TestOpenTraceFileAppendsAndRefuses(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "server.jsonl")
	run := func(steps int) {
		tw, err := OpenTraceFile(path, protocol.Hardened(), nil)
		require.NoError(t, err)
		for i := 1; i <= steps; i++ {
			tw.Step(traceStep(i))
		}
		require.NoError(t, tw.Close())
	}
	run(2)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "a trace holds tokens")
	firstRun, err := os.ReadFile(path)
	require.NoError(t, err)
	run(3)
	both, err := os.ReadFile(path)
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(both, firstRun), "the first run is kept")
	lines, _, runs, warns, err := readTrace(0, TraceInput{Name: path, R: bytes.NewReader(both)})
	require.NoError(t, err)
	require.Equal(t, 2, runs)
	require.Len(t, lines, 5)
	require.Empty(t, warns)

	// A file that ends inside a line gets the line ended first.
	require.NoError(t, os.WriteFile(path, append(bytes.Clone(firstRun), `{"type":"step","n":3,"t":`...), 0o600))
	run(1)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	_, _, runs, warns, err = readTrace(0, TraceInput{Name: path, R: bytes.NewReader(data)})
	require.NoError(t, err)
	require.Equal(t, 2, runs)
	require.Len(t, warns, 1)
	require.Equal(t, bytes.Count(firstRun, []byte("\n"))+1, warns[0].Line)

	for name, tc := range map[string]struct {
		content []byte
		profile protocol.Profile
		want    string
	}{
		"not a trace":   {[]byte("root:x:0:0:root:/root:/bin/bash\n"), protocol.Hardened(), "not a trace"},
		"other profile": {firstRun, protocol.Patent(), "profile"},
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
		require.NoError(t, os.WriteFile(p, tc.content, 0o600))
		_, err := OpenTraceFile(p, tc.profile, nil)
		require.ErrorContains(t, err, tc.want, name)
		require.ErrorContains(t, err, p, name)
		after, rerr := os.ReadFile(p)
		require.NoError(t, rerr)
		require.Equal(t, tc.content, after, "%s: the file changed", name)
	}
	_, err = OpenTraceFile(dir, protocol.Hardened(), nil)
	require.ErrorContains(t, err, dir)

	// While one writer has the file, a second is refused.
	tw, err := OpenTraceFile(path, protocol.Hardened(), nil)
	require.NoError(t, err)
	_, err = OpenTraceFile(path, protocol.Hardened(), nil)
	require.ErrorContains(t, err, "in use")
	require.NoError(t, tw.Close())
	tw, err = OpenTraceFile(path, protocol.Hardened(), nil)
	require.NoError(t, err, "Close releases the lock")
	require.NoError(t, tw.Close())
}

// TestValidateRestartOnMemoryStore: a server restarted on a memory store
// starts every slot afresh. The runs before and after the restart still
// validate together: each slot's first step after the restart replays from
// a new slot, with one warning for the run.
func TestValidateRestartOnMemoryStore(t *testing.T) {
	w := newWorld(t, worldConfig{profile: fastHardened(), trace: true})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	devs := w.addDevices(5)
	w.handshakeAll(ctx, devs)
	w.quiesce(t)
	w.stopServer()
	w.store = NewMemoryStore() // what a restart leaves of a memory store
	w.startServer()
	w.handshakeAll(ctx, devs) // verified clients re-key with a server that has no slot
	w.quiesce(t)
	files := w.traces()

	rep, err := ValidateTraces(files)
	require.NoError(t, err)
	require.True(t, rep.OK(), "%v", rep.Violations)
	require.Equal(t, 5, rep.Verified)
	require.Len(t, rep.Warnings, 1, "%v", rep.Warnings)
	require.Equal(t, "server-2.jsonl", rep.Warnings[0].File)
	require.Contains(t, rep.Warnings[0].Reason, "server slot")
	require.Contains(t, rep.Warnings[0].Reason, "was not kept across the restart")
}
