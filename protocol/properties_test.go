package protocol_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	. "github.com/verishake/verishake/protocol"
)

func claim(k ClaimKind, r Role, id RegID, tcK, tsK uint64, seq uint32) Claim {
	c := Claim{Kind: k, Role: r, RegID: id, Seq: seq}
	if tcK > 0 {
		c.Tc = Symbolic(tcK)
	}
	if tsK > 0 {
		c.Ts = Symbolic(tsK)
	}
	return c
}

// Each property is checked on a good trace and on the smallest bad twin of
// it: a monitor that cannot fail would pass both.
func TestMonitorGoodAndBadTraces(t *testing.T) {
	good := []Claim{
		claim(Running, RoleClient, 1, 1, 2, 0),
		claim(Running, RoleServer, 1, 1, 2, 0),
		claim(Commit, RoleServer, 1, 1, 2, 0),
		claim(Commit, RoleClient, 1, 1, 2, 0),
		claim(Issued, RoleServer, 1, 0, 2, 1),
		claim(Executed, RoleClient, 1, 0, 2, 1),
	}
	require.Empty(t, CheckClaims(good, nil))

	cases := []struct {
		property string
		trace    []Claim
	}{
		{AuthC, []Claim{ // client accepts a Ts no server vouched for
			claim(Running, RoleClient, 1, 1, 2, 0),
			claim(Commit, RoleClient, 1, 1, 2, 0),
		}},
		{AuthC, append(good[:4:4], claim(Commit, RoleClient, 1, 1, 2, 0))}, // twice on one Running
		{AuthS, []Claim{ // server verifies without the client's Running
			claim(Running, RoleServer, 1, 1, 2, 0),
			claim(Commit, RoleServer, 1, 1, 2, 0),
		}},
		{AuthS, append(good[:4:4], claim(Running, RoleServer, 1, 1, 2, 0), claim(Commit, RoleServer, 1, 1, 2, 0))},
		{AuthS, []Claim{ // another RegID's Running does not count
			claim(Running, RoleClient, 2, 1, 2, 0),
			claim(Commit, RoleServer, 1, 1, 2, 0),
		}},
		{Cmd, append(good[:4:4], claim(Executed, RoleClient, 1, 0, 2, 1))}, // never issued
		{Cmd, append(good[:6:6], claim(Executed, RoleClient, 1, 0, 2, 1))}, // executed twice
		{Cmd, append(good[:5:5], claim(Executed, RoleClient, 1, 0, 3, 1))}, // under another Ts
	}
	for _, c := range cases {
		vs := CheckClaims(c.trace, nil)
		require.Len(t, vs, 1, "%s: %v", c.property, c.trace)
		require.Equal(t, c.property, vs[0].Property)
		require.Equal(t, c.trace[len(c.trace)-1], vs[0].Claim, "the violation names the claim that completes it")
	}
}

func TestMonitorExemptsDishonestRegIDs(t *testing.T) {
	bad := []Claim{claim(Commit, RoleServer, 9, 1, 2, 0)}
	require.Len(t, CheckClaims(bad, nil), 1)
	require.Empty(t, CheckClaims(bad, func(id RegID) bool { return id < 9 }))
}

func TestMonitorForgetsMatchedClaims(t *testing.T) {
	m := NewMonitor(nil)
	for k := uint64(1); k < 1000; k++ {
		for _, c := range []Claim{
			claim(Running, RoleClient, 1, k, k+1, 0), claim(Running, RoleServer, 1, k, k+1, 0),
			claim(Commit, RoleServer, 1, k, k+1, 0), claim(Commit, RoleClient, 1, k, k+1, 0),
		} {
			_, bad := m.Observe(c)
			require.False(t, bad)
		}
	}
	require.Zero(t, m.Pending(), "matched claims are deleted, so memory stays flat")
}

func TestTokens(t *testing.T) {
	a := Token{0: 0xff, 15: 0x0f}
	require.True(t, a.Equal(a))
	require.False(t, a.Equal(Token{15: 0x0f}))
	require.Equal(t, Token{15: 0x0f}, a.Mask(8))
	require.Equal(t, Token{15: 0x07}, a.Mask(3))
	require.Equal(t, Token{}, a.Mask(0))
	require.Equal(t, a, a.Mask(128))
	require.Equal(t, Token{14: 0x00, 15: 0x0f}, Token{13: 1, 14: 0xf0, 15: 0x0f}.Mask(12))
	require.Equal(t, "#7", Symbolic(7).String())
	require.Equal(t, "ff00000000000000000000000000000f", a.String())

	s1, s2 := NewSeededTokens(5), NewSeededTokens(5)
	require.Equal(t, s1.NewToken(), s2.NewToken(), "same seed, same tokens")
	require.NotEqual(t, CryptoTokens{}.NewToken(), CryptoTokens{}.NewToken())
}

func TestProfilesValidate(t *testing.T) {
	require.NoError(t, Patent().Validate())
	require.NoError(t, Hardened().Validate())
	bad := Hardened()
	bad.TokenBits, bad.Backoff = 0, 0
	err := bad.Validate()
	require.ErrorIs(t, err, ErrProfile)
	require.ErrorContains(t, err, "TokenBits 0")
	require.ErrorContains(t, err, "Backoff")
	_, err = ProfileByName("weak")
	require.ErrorContains(t, err, `"weak"`)
}
