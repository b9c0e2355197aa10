package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/transport"
)

// The docs' commands, as a user copies them: every command in a code block
// of README.md and docs/*.md runs here, exits as the text says (a trailing
// "# exit N", else docStatus, else 0) and prints every output line the
// text quotes after it ("..." stands for what is left out; a line the text
// wraps matches piecewise). The exceptions are listed below, each with its
// reason, and a listed exception the docs no longer show fails the test.

// docExceptions are the documented commands the test does not run.
var docExceptions = map[string]string{
	"verishake relay --addr 127.0.0.1:8090 --loss 0.2 --dup 0.2 --delay 0..50ms":                                     "a server on fixed ports, run until stopped (TestRelay* and the serve tests run it on port 0)",
	"verishake serve --addr 127.0.0.1:8080 --store sessions.db --push http://127.0.0.1:8090 --trace server.jsonl":    "a server on fixed ports, run until stopped (TestServe* run it on port 0)",
	"verishake device --relay http://127.0.0.1:8090 --server http://127.0.0.1:8080 --count 20 --trace devices.jsonl": "needs the relay and the server above running",
	"verishake validate server.jsonl devices.jsonl":                                                                  "needs the traces the serve and device runs above write",
	"verishake sim --clients 1 --handshakes 1 --commands 2 --seed 7":                                                 "historical: the text shows the run before CommandWindow was added, which the current model no longer violates",
	"/usr/bin/time -v ./verishake sim --handshakes 100000 --loss 0.1 --seed 7 --json":                                "a peak-RSS measurement of a separate process, machine-dependent",
	"/usr/bin/time -v ./verishake sim --handshakes 1000000 --loss 0.1 --seed 7 --json":                               "a peak-RSS measurement of a separate process, machine-dependent",
	"/usr/bin/time -v ./verishake sim --handshakes 3000000 --loss 0.1 --seed 7 --json":                               "a peak-RSS measurement of a separate process, machine-dependent",
	"go build -o verishake ./cmd/verishake":                                                                          "builds the binary the next command runs; the test runs the commands in process",
	"go test ./...":                                                                                                  "the test suite itself",
	"bash bench/run.sh":                                                                                              "the cross-tool benchmark: needs Spin and minutes (docs/performance.md)",
	"bash bench/soak.sh":                                                                                             "the soak: servers under kill -9 and load for minutes (docs/embedding.md)",
	"go test ./sim -run '^$' -bench SimHandshakes -benchtime 2000000x -cpu 1,2 -count 3":                             "a benchmark: timing figures, machine-dependent",
	"go test ./sim/explore -run '^$' -bench BenchmarkExplore -benchtime 2x -cpu 1 -cpuprofile cpu.prof":              "a benchmark: timing figures, machine-dependent",
	"go tool pprof -top -cum sim/explore.test cpu.prof":                                                              "reads the profile the benchmark above writes",
	"go test -run '^$' -bench HTTPHandshake -benchtime 20000x -count 3 ./transport/":                                 "a benchmark: timing figures, machine-dependent",
	"go test -run '^$' -bench BoltExpiry -benchtime 20x ./transport/":                                                "a benchmark: timing figures, machine-dependent",
	"go test -run '^$' -bench TraceWriterStep -benchtime 100000x -count 3 ./transport/":                              "a benchmark: timing figures, machine-dependent",
	"go test -run '^$' -bench 'OpenBoltStore|BoltStoreSave' -count 3 ./transport/":                                   "a benchmark: timing figures, machine-dependent",
	"go test ./examples/nspk/...":                                                                                    "the example's own tests, run by go test ./...",
	"go test -run Example -v ./examples/nspk/":                                                                       "the example's own Example, run by go test ./...",
	"go test -run TestVerdictTableIsTheDocs -v ./examples/nspk/":                                                     "the example's own test of the table, run by go test ./...",
	"go run ./examples/nspk/lowe":                                                                                    "a program of its own, tested by TestLoweDrawsTheAttackAndPassesTheFix",
	"go run ./examples/nspk/lowe -fixed -initiators A,B -responders B,A":                                             "a program of its own, tested by TestLoweDrawsTheAttackAndPassesTheFix",
	"go test -c -o before.test ./sim/explore":                                                                        "builds a benchmark binary at an older commit",
	"go test -c -o after.test ./sim/explore":                                                                         "builds a benchmark binary",
	"verishake verify --write-baseline BASELINE.json":                                                                "a whole verify run: TestBaselineRecordOnHardenedThenAVariantRegresses records a baseline on hardened and compares with it, on verify's cheaper checks",
	"verishake verify --baseline BASELINE.json":                                                                      "a whole verify run: TestBaselineRecordOnHardenedThenAVariantRegresses compares with a baseline, on verify's cheaper checks",
	"verishake repair --profile patent":                                                                              "minutes of checks (docs/findings.md gives the run's time): TestRepairPrintsOnlyMinimalSetsThatWork runs repair on the patent with fewer knobs and verify's cheaper checks",
	"verishake repair --variant no-command-seq --knobs CommandSeq,CommandWindow,NewTokenOnRetry":                     "a whole verify run for the set that works: TestRepairPrintsOnlyMinimalSetsThatWork runs repair on verify's cheaper checks",
}

// docStatus is the exit status of documented commands whose text gives
// none (docs/findings.md's, kept by another hand).
var docStatus = map[string]int{
	"verishake sim --profile patent --clients 1 --handshakes 1 --seed 2":                                                    exitViolation,
	"verishake check --profile hardened --adversary default+read-push --losses 0 --dups 0 --injects 2 --max-states 3000000": exitViolation,
	"verishake check --profile patent --losses 0 --dups 0 --dump patent.dot":                                                exitViolation,
}

// docLong are the commands that take more than a few seconds: run in every
// plain `go test`, left out under -short.
var docLong = map[string]bool{
	"verishake verify":                    true,
	"verishake verify --profile hardened": true,
	"verishake check --profile hardened --adversary default+read-push --losses 0 --dups 0 --injects 2 --max-states 3000000": true,
}

// docSameRun are documented commands that make the same run as another
// (hardened is the default profile): the test runs it once.
var docSameRun = map[string]string{
	"verishake verify --profile hardened": "verishake verify",
}

// docCommand is one command shown in the docs.
type docCommand struct {
	where  string   // file:line
	text   string   // the command, normalized: "verishake ARGS"
	status int      // the exit status the text gives
	quoted []string // the output lines the text quotes after it
}

var (
	exitComment = regexp.MustCompile(`#.*\bexits? (\d)\b`)
	// A synopsis shows optional flags in brackets or alternatives.
	synopsis = regexp.MustCompile(`\[--|\[[A-Z]|\s\|\s`)
)

// docFiles are README.md and docs/*.md.
func docFiles(t *testing.T) []string {
	files, err := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	require.NoError(t, err)
	return append([]string{filepath.Join("..", "..", "README.md")}, files...)
}

// docCommands reads every command line in the code blocks of files.
func docCommands(t *testing.T, files []string) []docCommand {
	var cmds []docCommand
	for _, file := range files {
		f, err := os.Open(file)
		require.NoError(t, err)
		var block []string
		var blockStart int
		inBlock, lang := false, ""
		sc := bufio.NewScanner(f)
		for n := 1; sc.Scan(); n++ {
			line := sc.Text()
			if strings.HasPrefix(line, "```") {
				if inBlock && (lang == "" || lang == "sh" || lang == "console") {
					cmds = append(cmds, blockCommands(filepath.Base(file), blockStart, block)...)
				}
				inBlock, lang, block, blockStart = !inBlock, strings.TrimPrefix(line, "```"), nil, n+1
				continue
			}
			if inBlock {
				block = append(block, line)
			}
		}
		require.NoError(t, sc.Err())
		f.Close()
	}
	return cmds
}

// blockCommands finds the commands of one code block. In a transcript
// ("$ " lines) the lines after a command are its quoted output; elsewhere
// each line naming a command is one, without output.
func blockCommands(file string, start int, block []string) []docCommand {
	transcript := false
	for _, l := range block {
		transcript = transcript || strings.HasPrefix(l, "$ ")
	}
	var cmds []docCommand
	for i, l := range block {
		if transcript && !strings.HasPrefix(l, "$ ") {
			if len(cmds) > 0 {
				cmds[len(cmds)-1].quoted = append(cmds[len(cmds)-1].quoted, l)
			}
			continue
		}
		text := strings.TrimPrefix(l, "$ ")
		if !transcript && !isCommandLine(text) {
			continue
		}
		c := docCommand{where: fmt.Sprintf("%s:%d", file, start+i), status: -1}
		if m := exitComment.FindStringSubmatch(text); m != nil {
			c.status, _ = strconv.Atoi(m[1])
		}
		if j := strings.Index(text, "  #"); j >= 0 {
			text = text[:j]
		}
		c.text = normalizeCommand(text)
		cmds = append(cmds, c)
	}
	return cmds
}

// isCommandLine reports whether a line of a code block that is no
// transcript is a command: one of verishake's (not a report line that
// starts with the word), or of the tools the docs run.
func isCommandLine(l string) bool {
	if f := strings.Fields(normalizeCommand(l)); len(f) > 1 && f[0] == "verishake" {
		return slices.ContainsFunc(commands, func(c command) bool { return c.name == f[1] })
	}
	for _, p := range []string{"go ", "bash ", "/usr/bin/time "} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return false
}

// normalizeCommand spells a verishake command "verishake ARGS", however
// the docs run it, with single spaces.
func normalizeCommand(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	for _, p := range []string{"go run ./cmd/verishake ", "./verishake "} {
		if strings.HasPrefix(s, p) {
			return "verishake " + strings.TrimPrefix(s, p)
		}
	}
	return s
}

// quotedMatches reports whether the output has a line in which the pieces
// of quoted (split at "...") appear in order.
func quotedMatches(output []string, quoted string) bool {
	var pieces []string
	for _, p := range strings.Split(quoted, "...") {
		if p = strings.TrimSpace(p); p != "" {
			pieces = append(pieces, p)
		}
	}
	if len(pieces) == 0 {
		return true
	}
	for _, line := range output {
		rest, ok := line, true
		for _, p := range pieces {
			i := strings.Index(rest, p)
			if i < 0 {
				ok = false
				break
			}
			rest = rest[i+len(p):]
		}
		if ok {
			return true
		}
	}
	return false
}

func TestDocsCommands(t *testing.T) {
	if raceDetector {
		// The commands' concurrency (the explorer's workers) is raced by
		// the tests of verify and check; here the race detector would
		// only make the docs' runs ten times slower.
		t.Skip("the documented commands are checked without -race")
	}
	files := docFiles(t)
	cmds := docCommands(t, files)
	require.NotEmpty(t, cmds)
	t.Chdir(t.TempDir()) // traces and counterexamples land here
	usedException := map[string]bool{}
	type result struct {
		status         int
		stdout, stderr string
	}
	results := map[string]result{}
	ran := 0
	for _, c := range cmds {
		if synopsis.MatchString(c.text) {
			continue // a synopsis: TestDocsSynopses checks its flags
		}
		if reason, ok := docExceptions[c.text]; ok {
			usedException[c.text] = true
			t.Logf("%s: not run: %s: %s", c.where, c.text, reason)
			continue
		}
		require.True(t, strings.HasPrefix(c.text, "verishake "), "%s: %q is neither a verishake command nor a listed exception", c.where, c.text)
		if docLong[c.text] && testing.Short() {
			t.Logf("%s: not run under -short (long): %s", c.where, c.text)
			continue
		}
		args, err := splitShellWords(strings.TrimPrefix(c.text, "verishake "))
		require.NoError(t, err, c.where)
		want := c.status
		if want < 0 {
			want = docStatus[c.text]
		}
		key := c.text
		if same, ok := docSameRun[key]; ok {
			key = same
		}
		r, ok := results[key]
		if !ok {
			r.status, r.stdout, r.stderr = runCLI(args...)
			results[key] = r
			ran++
		}
		status, stdout, stderr := r.status, r.stdout, r.stderr
		if status != want {
			t.Errorf("%s: %s exits %d, the text says %d\nstderr: %s", c.where, c.text, status, want, stderr)
			continue
		}
		output := strings.Split(stdout+stderr, "\n")
		for _, q := range c.quoted {
			if !quotedMatches(output, q) {
				t.Errorf("%s: %s does not print the line the text quotes:\n  %s\noutput:\n%s", c.where, c.text, q, strings.Join(trimOutput(output), "\n"))
				break
			}
		}
	}
	for text := range docExceptions {
		require.True(t, usedException[text], "docExceptions lists %q, which the docs no longer show", text)
	}
	for text := range docStatus {
		require.True(t, strings.Contains(fmt.Sprint(cmds), text), "docStatus lists %q, which the docs no longer show", text)
	}
	t.Logf("ran %d documented commands", ran)
}

// trimOutput leaves out the trace records of a failing sim's report, for
// a readable failure.
func trimOutput(lines []string) []string {
	var out []string
	for _, l := range lines {
		if !strings.HasPrefix(l, "  {") {
			out = append(out, l)
		}
	}
	return out
}

// splitShellWords splits a command line as a POSIX shell would, for the
// quoting the docs use (single and double quotes, no expansions).
func splitShellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case ch == ' ' || ch == '\t':
			if inWord {
				words, inWord = append(words, cur.String()), false
				cur.Reset()
			}
		case ch == '\'' || ch == '"':
			j := strings.IndexByte(s[i+1:], ch)
			if j < 0 {
				return nil, fmt.Errorf("unterminated %c in %q", ch, s)
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case ch == ';' || ch == '&' || ch == '|' || ch == '>' || ch == '<' || ch == '$' || ch == '`':
			return nil, fmt.Errorf("%q: shell syntax %q the test does not run", s, ch)
		default:
			cur.WriteByte(ch)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// commandFlags are a command's flags as its help lists them, each with
// whether it is a switch that is on by default.
func commandFlags(t *testing.T, name string) (flags map[string]bool, usage string) {
	t.Helper()
	status, out, _ := runCLI("help", name)
	require.Equal(t, exitOK, status, name)
	lines := strings.Split(out, "\n")
	flags = map[string]bool{}
	for i, l := range lines {
		if !strings.HasPrefix(l, "  --") {
			continue
		}
		f := strings.Fields(l)[0][2:]
		onByDefault := i+1 < len(lines) && strings.HasSuffix(lines[i+1], "(default true)") && len(strings.Fields(l)) == 1
		flags[f] = onByDefault
	}
	usage, _, _ = strings.Cut(out, "\n\n")
	return flags, usage
}

var synopsisFlag = regexp.MustCompile(`--([a-z][a-z0-9-]*)(=false)?`)

// requireSynopsis checks that a synopsis of command name lists every flag
// it has (the "[limits]" group of serve and relay aside) and no other, and
// shows a switch that is on by default as --name=false.
func requireSynopsis(t *testing.T, where, name, text string) {
	t.Helper()
	flags, _ := commandFlags(t, name)
	limits, limitGroup := addLimitFlagNames()[name]
	named := map[string]bool{}
	for _, m := range synopsisFlag.FindAllStringSubmatch(text, -1) {
		f := m[1]
		on, ok := flags[f]
		require.True(t, ok, "%s: the synopsis of %s shows --%s, which it does not have", where, name, f)
		require.Equal(t, on, m[2] == "=false", "%s: %s --%s is on by default: the synopsis must show --%s=false", where, name, f, f)
		named[f] = true
	}
	for f := range flags {
		if limitGroup && limits[f] && strings.Contains(text, "[limits]") {
			continue
		}
		require.True(t, named[f], "%s: the synopsis of %s leaves out --%s", where, name, f)
	}
}

// addLimitFlagNames are the flags of the "[limits]" group, by command.
func addLimitFlagNames() map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, name := range []string{"serve", "relay"} {
		out[name] = map[string]bool{}
		fs := newFlags(name, io.Discard)
		addLimitFlags(fs, transport.DefaultServeLimits())
		fs.VisitAll(func(f *flag.Flag) { out[name][f.Name] = true })
	}
	return out
}

// Every command's own usage line lists all its flags, and so does every
// full synopsis in the docs (README's command table, docs/simulation.md's
// synopsis); no synopsis shows a flag the command lacks.
func TestDocsSynopses(t *testing.T) {
	for _, c := range commands {
		_, usage := commandFlags(t, c.name)
		requireSynopsis(t, "verishake help "+c.name, c.name, usage)
	}
	full := map[string]bool{"README.md": true, "simulation.md": true}
	checked := 0
	for _, file := range docFiles(t) {
		raw, err := os.ReadFile(file)
		require.NoError(t, err)
		inBlock := false
		var cur, where, name string
		flush := func() {
			if name != "" && full[filepath.Base(file)] {
				requireSynopsis(t, where, name, cur)
				checked++
			}
			cur, name = "", ""
		}
		for n, l := range strings.Split(string(raw), "\n") {
			if strings.HasPrefix(l, "```") {
				flush()
				inBlock = !inBlock
				continue
			}
			if !inBlock {
				continue
			}
			if strings.HasPrefix(strings.TrimSpace(l), "[") && name != "" {
				cur += " " + l // a synopsis's continuation line
				continue
			}
			flush()
			if f := strings.Fields(l); len(f) > 2 && f[0] == "verishake" && synopsis.MatchString(l) && !strings.Contains(l, " | ") {
				name, cur, where = f[1], l, fmt.Sprintf("%s:%d", filepath.Base(file), n+1)
			}
		}
	}
	require.GreaterOrEqual(t, checked, 8, "README's six commands and simulation.md's two")
}

// The docs stand alone: every file they name (a link, or a path such as
// docs/properties.md in the text) is in the repository; none is a design
// note kept elsewhere.
func TestDocsCiteOnlyFilesInTheRepo(t *testing.T) {
	root := filepath.Join("..", "..")
	named := regexp.MustCompile(`\]\(([^)#\s]+)|([A-Za-z0-9_./-]+\.(?:md|json|go|sh|pml))\b`)
	baseNames := repoBaseNames(t, root)
	// No file of the repository cites the design note that is not in it.
	designNote := "DESIGN" + ".md"
	require.NoError(t, filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			if d != nil && d.Name() == ".git" {
				return filepath.SkipDir
			}
			return err
		}
		switch filepath.Ext(path) {
		case ".md", ".go", ".pml", ".sh", ".json", ".txt":
			raw, err := os.ReadFile(path)
			if err == nil && strings.Contains(string(raw), designNote) {
				t.Errorf("%s cites %s, which is not in the repository", path, designNote)
			}
			return err
		}
		return nil
	}))
	for _, file := range docFiles(t) {
		raw, err := os.ReadFile(file)
		require.NoError(t, err)
		for _, m := range named.FindAllStringSubmatch(string(raw), -1) {
			ref := m[1] + m[2]
			if strings.Contains(ref, "://") || strings.HasPrefix(ref, "mailto:") {
				continue
			}
			// A path is relative to the doc, or to the repository's root.
			inDoc := filepath.Join(filepath.Dir(file), ref)
			inRoot := filepath.Join(root, ref)
			_, errDoc := os.Stat(inDoc)
			_, errRoot := os.Stat(inRoot)
			byBase := !strings.Contains(ref, "/") && baseNames[ref]
			if errDoc != nil && errRoot != nil && !byBase && !docNamesAFileItWrites(ref) {
				t.Errorf("%s names %s, which is not in the repository", filepath.Base(file), ref)
			}
		}
	}
}

// docNamesAFileItWrites reports whether ref is a file the docs' own
// commands write (a trace, a counterexample).
func docNamesAFileItWrites(ref string) bool {
	return strings.HasSuffix(ref, ".jsonl") || strings.HasPrefix(ref, "verishake-cex/") || placeholder.MatchString(ref) ||
		ref == "checkpoint.json" // what check --checkpoint writes in its directory
}

// placeholder is a file name in a synopsis that stands for the user's
// choice (FILE.json, FILE.dot).
var placeholder = regexp.MustCompile(`^[A-Z]+\.[a-z]+$`)

// repoBaseNames are the names of the repository's files, for the docs that
// name a file by its base name in a package they have named.
func repoBaseNames(t *testing.T, root string) map[string]bool {
	names := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		names[d.Name()] = true
		return nil
	})
	require.NoError(t, err)
	return names
}
