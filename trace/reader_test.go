package trace

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const (
	testHeader = `{"type":"header","schema":1,"source":"transport","profile":{"Name":"hardened"},"variant":"","seed":0,"tokens":""}`
	testStep   = `{"type":"step","n":1,"t":5,"step":"start","machine":"client","regid":1,"sent":{"id":7,"from":"client","kind":"Hello","regid":1,"tc":"#1"},"state":"AwaitValidation"}`
	testEnd    = `{"type":"end","steps":1,"t":5,"stopped":"closed","violations":[]}`
)

// readAll reads r to its end, returning the lines read and the errors
// met on the way, each as its text.
func readAll(t *testing.T, in string) (lines []Line, errs []string) {
	t.Helper()
	rd := NewReader(strings.NewReader(in))
	for range 100 { // a bound, so that a reader that never ends fails
		l, err := rd.Next()
		switch {
		case errors.Is(err, io.EOF):
			return lines, errs
		case err != nil:
			_, ok := errors.AsType[*LineError](err)
			require.True(t, ok, "error %v is not a *LineError", err)
			errs = append(errs, err.Error())
			if strings.Contains(err.Error(), "reading:") || strings.Contains(err.Error(), "header that reads") || strings.Contains(err.Error(), "empty trace") {
				return lines, errs
			}
		default:
			lines = append(lines, l)
		}
	}
	t.Fatal("the reader does not end")
	return nil, nil
}

func TestReaderReadsRuns(t *testing.T) {
	// Two runs, the second after a restart, with blank lines between.
	lines, errs := readAll(t, testHeader+"\n"+testStep+"\n\n  \n"+testEnd+"\n"+testHeader+"\n"+testStep+"\n")
	require.Empty(t, errs)
	var types []string
	for _, l := range lines {
		types = append(types, l.Type)
	}
	require.Equal(t, []string{LineHeader, LineStep, LineEnd, LineHeader, LineStep}, types)
	require.Equal(t, 5, lines[2].Number, "blank lines count")
	require.Equal(t, "hardened", lines[0].Header.Profile.Name)
	require.Equal(t, uint64(7), lines[1].Step.Sent.ID)
	require.Equal(t, "closed", lines[2].End.Stopped)
}

// TestReaderErrorsNameLineAndField: each malformed line is refused with
// its line number and what is wrong in it, and the reader reads on.
func TestReaderErrorsNameLineAndField(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
	}{
		{"empty", "", []string{"trace: line 1: empty trace: no header"}},
		{"blank only", "\n \n", []string{"trace: line 2: empty trace: no header"}},
		{"no header", testStep + "\n", []string{`trace: line 1: first line is a "step", want the header`, "trace: line 1: the trace ends without a header that reads"}},
		{"not json", testHeader + "\nhello\n", []string{"trace: line 2: not a JSON object: invalid character 'h' looking for beginning of value"}},
		{"trailing data", testHeader + "\n" + testStep + " x\n", []string{"trace: line 2: not a JSON object: invalid character 'x' after top-level value"}},
		{"cut short", testHeader + "\n" + testStep[:40] + "\n" + testStep + "\n", []string{"trace: line 2: a record cut short (40 bytes)"}},
		{"unknown field", testHeader + "\n" + strings.Replace(testStep, `"n":1`, `"n":1,"colour":2`, 1) + "\n", []string{`trace: line 2: step: json: unknown field "colour"`}},
		{"field type", testHeader + "\n" + strings.Replace(testStep, `"n":1`, `"n":"one"`, 1) + "\n", []string{"trace: line 2: step: json: cannot unmarshal string into Go struct field Record.n of type uint64"}},
		{"token", testHeader + "\n" + strings.Replace(testStep, `"tc":"#1"`, `"tc":"#x"`, 1) + "\n", []string{`trace: line 2: message 7: tc: malformed token "#x": strconv.ParseUint: parsing "x": invalid syntax`}},
		{"step name", testHeader + "\n" + strings.Replace(testStep, `"start"`, `"teleport"`, 1) + "\n", []string{`trace: line 2: unknown step "teleport"`}},
		{"schema", strings.Replace(testHeader, `"schema":1`, `"schema":2`, 1) + "\n", []string{"trace: line 1: header: schema 2, this reader reads schema 1", "trace: line 1: the trace ends without a header that reads"}},
		{"header field", strings.Replace(testHeader, `"seed":0`, `"seed":0,"sed":1`, 1) + "\n" + testStep + "\n", []string{`trace: line 1: header: json: unknown field "sed"`, `trace: line 2: first line is a "step", want the header`, "trace: line 2: the trace ends without a header that reads"}},
		{"end field", testHeader + "\n" + strings.Replace(testEnd, `"t":5`, `"t":5,"x":1`, 1) + "\n", []string{`trace: line 2: end: json: unknown field "x"`}},
		{"after end", testHeader + "\n" + testEnd + "\n" + testStep + "\n", []string{`trace: line 3: a "step" line after the end line`}},
		{"line type", testHeader + "\n" + `{"type":"stop"}` + "\n", []string{`trace: line 2: unknown line type "stop"`}},
		{"too long", testHeader + "\n" + strings.Repeat(" ", MaxLine+1) + "\n", []string{"trace: line 2: reading: bufio.Scanner: token too long"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errs := readAll(t, tc.in)
			require.Equal(t, tc.want, errs)
		})
	}
}

func TestReaderCutShortIsErrCutShort(t *testing.T) {
	rd := NewReader(strings.NewReader(testHeader + "\n" + testStep[:40]))
	_, err := rd.Next()
	require.NoError(t, err)
	_, err = rd.Next()
	require.ErrorIs(t, err, ErrCutShort)
	_, err = rd.Next()
	require.ErrorIs(t, err, io.EOF)
}

// TestReaderReadsRetractions: a retract line names a server step; one that
// names a client's, or no step the schema has, is refused with its line.
func TestReaderReadsRetractions(t *testing.T) {
	retract := `{"type":"retract","t":5,"machine":"server","regid":1,"step":"deliver"}`
	lines, errs := readAll(t, testHeader+"\n"+retract+"\n"+
		`{"type":"retract","t":5,"machine":"client","regid":1,"step":"start"}`+"\n"+
		`{"type":"retract","t":5,"machine":"server","regid":1,"step":"reboot"}`+"\n"+
		`{"type":"retract","t":5,"machine":"server","regid":1,"step":"deliver","n":3}`+"\n")
	require.Len(t, lines, 2)
	require.Equal(t, LineRetract, lines[1].Type)
	require.Equal(t, Retract{Type: LineRetract, T: 5, Machine: MachineServer, RegID: 1, Step: StepDeliver}, *lines[1].Retract)
	require.Equal(t, []string{
		`trace: line 3: retract: machine "client", want "server": only a server slot's step is retracted`,
		`trace: line 4: retract: unknown step "reboot"`,
		`trace: line 5: retract: json: unknown field "n"`,
	}, errs)
}
