package trace

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/protocol"
)

func TestParseToken(t *testing.T) {
	hex := strings.Repeat("0a", protocol.TokenBytes)
	tok, err := ParseToken(hex)
	require.NoError(t, err)
	require.Equal(t, hex, tok.String())

	tok, err = ParseToken("#7")
	require.NoError(t, err)
	require.Equal(t, protocol.Symbolic(7), tok)

	tok, err = ParseToken("")
	require.NoError(t, err)
	require.True(t, tok.IsZero())

	for _, bad := range []string{"#", "#x", "0a0a", strings.Repeat("zz", protocol.TokenBytes), hex + "00"} {
		_, err := ParseToken(bad)
		require.ErrorIs(t, err, ErrToken, "%q", bad)
		require.ErrorContains(t, err, bad)
	}
}

// TestMessageAndClaimRoundTrip: what MsgOf and ClaimOf write, Message and
// Claim read back unchanged, symbolic and random tokens alike.
func TestMessageAndClaimRoundTrip(t *testing.T) {
	tc, ts := protocol.Symbolic(3), protocol.Token{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	for k := protocol.Hello; k <= protocol.Command; k++ {
		m := protocol.Message{Kind: k, RegID: 9, Tc: tc, Ts: ts, Seq: 4, Payload: "a <b> & c"}
		got, err := MsgOf(5, "server", true, m).Message()
		require.NoError(t, err, "%v", k)
		require.Equal(t, m, got)
	}
	for _, c := range []protocol.Claim{
		{Kind: protocol.Running, Role: protocol.RoleClient, RegID: 1, Tc: tc},
		{Kind: protocol.Commit, Role: protocol.RoleServer, RegID: 2, Tc: tc, Ts: ts},
		{Kind: protocol.Issued, Role: protocol.RoleServer, RegID: 3, Ts: ts, Seq: 1},
		{Kind: protocol.Executed, Role: protocol.RoleClient, RegID: 3, Ts: ts, Seq: 1},
	} {
		got, err := ClaimOf(c).Claim()
		require.NoError(t, err)
		require.Equal(t, c, got)
	}
}

// TestRecordCheck: Check names the first field a replay could not
// rebuild, and passes a record whose every field parses.
func TestRecordCheck(t *testing.T) {
	valid := func() Record {
		return Record{Type: LineStep, N: 1, Step: StepDeliver, Machine: MachineServer, RegID: 1,
			Recv:   &Msg{ID: 1, Kind: "Hello", RegID: 1, Tc: "#1"},
			Sent:   &Msg{ID: 2, Kind: "Validation", RegID: 1, Tc: "#1", Ts: "#2"},
			Claims: []Claim{{Kind: "Running", Role: "server", RegID: 1, Tc: "#1", Ts: "#2"}}}
	}
	r := valid()
	require.NoError(t, r.Check())
	for _, tc := range []struct {
		name   string
		change func(*Record)
		want   string
	}{
		{"step", func(r *Record) { r.Step = "teleport" }, `unknown step "teleport"`},
		{"recv kind", func(r *Record) { r.Recv.Kind = "Hullo" }, `message 1: unknown message kind "Hullo"`},
		{"sent ts", func(r *Record) { r.Sent.Ts = "zz" }, `message 2: ts: malformed token "zz"`},
		{"claim role", func(r *Record) { r.Claims[0].Role = "nobody" }, `claim: unknown role "nobody"`},
		{"claim tc", func(r *Record) { r.Claims[0].Tc = "#" }, `claim: tc: malformed token "#"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := valid()
			tc.change(&r)
			require.ErrorContains(t, r.Check(), tc.want)
		})
	}
}

// TestStepNames: StepNames is what CheckStep accepts, and a caller cannot
// change it through the list it gets.
func TestStepNames(t *testing.T) {
	names := StepNames()
	require.Len(t, names, 11, "the simulator's eleven step kinds")
	for _, n := range names {
		require.NoError(t, CheckStep(n))
	}
	names[0] = "teleport"
	require.Error(t, CheckStep("teleport"))
	require.Equal(t, StepDeliver, StepNames()[0])
}
