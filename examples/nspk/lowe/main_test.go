package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func lowe(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// By default the command draws Lowe's attack and exits 1; on the fix it
// says every property holds and exits 0.
func TestLoweDrawsTheAttackAndPassesTheFix(t *testing.T) {
	code, out, errs := lowe()
	require.Equal(t, 1, code)
	require.Empty(t, errs)
	require.Contains(t, out, "AGREE-RESPONDER violated in 4 steps")
	require.Contains(t, out, "|                     |<---{Na, Nb}pk(A)----|   B -> I(A) : {Na, Nb}pk(A)\n")
	require.Contains(t, out, "AGREE-INITIATOR holds\n")

	code, out, errs = lowe("-fixed", "-initiators", "A,B", "-responders", "B,A")
	require.Equal(t, 0, code, out)
	require.Empty(t, errs)
	// The counts are the fix's row at two runs a role in docs/nspk.md's
	// table, which the nspk package's tests measure.
	require.Contains(t, out, "(Lowe's fix), initiator runs A,B, responder runs B,A: 5495 states, 17562 transitions, depth 8, complete true")
	for _, p := range []string{"AGREE-RESPONDER", "AGREE-INITIATOR", "SECRECY"} {
		require.Contains(t, out, p+" holds\n")
	}
}

// Bad usage exits 2 with one line naming the flag or argument.
func TestLoweRejectsBadUsage(t *testing.T) {
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"-initiators", "A,I"}, `lowe: -initiators: "I" is no honest agent`},
		{[]string{"-responders", "B,,A"}, `lowe: -responders: "" is no honest agent`},
		{[]string{"-initiators", "", "-responders", ""}, "lowe: -initiators and -responders are both empty"},
		{[]string{"-initiators", "A,B,A,B,A", "-responders", "B,A,B,A"}, "lowe: nspk: config has 9 runs, at most 8"},
		{[]string{"extra"}, `lowe: unexpected argument "extra"`},
	} {
		code, out, errs := lowe(bad.args...)
		require.Equal(t, 2, code, bad.args)
		require.Empty(t, out)
		require.Equal(t, 1, strings.Count(errs, "\n"), errs)
		require.True(t, strings.HasPrefix(errs, bad.want), errs)
	}
	code, _, errs := lowe("-workers", "2")
	require.Equal(t, 2, code)
	require.Contains(t, errs, "flag provided but not defined: -workers")
	code, _, errs = lowe("-h")
	require.Equal(t, 0, code)
	require.Contains(t, errs, "usage: lowe")
}
