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

func TestLedgerForgetsMatchedClaims(t *testing.T) {
	var l Ledger
	for k := uint64(1); k < 1000; k++ {
		for _, c := range []Claim{
			claim(Running, RoleClient, 1, k, k+1, 0), claim(Running, RoleServer, 1, k, k+1, 0),
			claim(Commit, RoleServer, 1, k, k+1, 0), claim(Commit, RoleClient, 1, k, k+1, 0),
		} {
			_, bad := l.Observe(c)
			require.False(t, bad)
		}
	}
	require.Empty(t, l, "matched claims are deleted, so memory stays flat")
}

// Agreement is on Tc as well as Ts: a Commit whose Tc differs from the
// peer's Running, all else equal, matches nothing (the explorer's check
// depends on it: sim/explore's TestAgreementDependsOnTc).
func TestLedgerMatchesOnTc(t *testing.T) {
	for _, c := range []struct {
		property string
		running  Role
		commit   Role
	}{{AuthC, RoleServer, RoleClient}, {AuthS, RoleClient, RoleServer}} {
		var l Ledger
		_, bad := l.Observe(claim(Running, c.running, 1, 1, 2, 0))
		require.False(t, bad)
		v, bad := l.Observe(claim(Commit, c.commit, 1, 3, 2, 0))
		require.True(t, bad, "%s: Commit with Tc #3 against a Running with Tc #1", c.property)
		require.Equal(t, c.property, v.Property)
		require.Len(t, l, 1, "a violating claim leaves the ledger as it was")
		_, bad = l.Observe(claim(Commit, c.commit, 1, 1, 2, 0))
		require.False(t, bad, "%s: the same Tc matches", c.property)
		require.Empty(t, l)
	}
}

// The ledger is a sorted multiset: the same claims in any order give the
// same value, and a copy is independent of its original.
func TestLedgerIsAValue(t *testing.T) {
	claims := []Claim{
		claim(Running, RoleClient, 2, 1, 2, 0), claim(Issued, RoleServer, 1, 0, 2, 3),
		claim(Running, RoleServer, 1, 4, 5, 0), claim(Issued, RoleServer, 1, 0, 2, 3),
	}
	var a, b Ledger
	for i := range claims {
		a.Observe(claims[i])
		b.Observe(claims[len(claims)-1-i])
	}
	require.Equal(t, a, b)
	require.Len(t, a, 4, "a multiset: the repeated Issued is held twice")
	cp := append(Ledger(nil), a...)
	_, bad := cp.Observe(claim(Executed, RoleClient, 1, 0, 2, 3))
	require.False(t, bad)
	require.Len(t, cp, 3)
	require.Len(t, a, 4, "changing a copy leaves the original")
	a.Forget(1, Symbolic(2))
	require.Equal(t, Ledger{claim(Running, RoleClient, 2, 1, 2, 0), claim(Running, RoleServer, 1, 4, 5, 0)}, a,
		"Forget drops the session's claims, of that RegID only")
}

func TestLedgerEncoding(t *testing.T) {
	var l Ledger
	full := Token{0: 0xab, 15: 0xcd}
	for _, c := range []Claim{
		claim(Running, RoleClient, 1, 1, 2, 0), claim(Issued, RoleServer, 1<<40, 0, 2, 1<<31),
		{Kind: Running, Role: RoleServer, RegID: 3, Tc: full, Ts: Symbolic(9)},
	} {
		l.Observe(c)
	}
	b, err := l.AppendBinary([]byte("prefix"))
	require.NoError(t, err)
	require.Equal(t, "prefix", string(b[:6]), "appends")
	back := Ledger{claim(Running, RoleClient, 9, 9, 9, 0)} // storage to reuse
	require.NoError(t, back.UnmarshalBinary(b[6:]))
	require.Equal(t, l, back)

	enc := b[6:]
	swapped := Ledger{l[1], l[0]} // a ledger out of order
	unsorted, _ := swapped.AppendBinary(nil)
	commit := Ledger{claim(Commit, RoleClient, 1, 1, 2, 0)}
	committed, _ := commit.AppendBinary(nil)
	for name, bad := range map[string][]byte{
		"empty":         nil,
		"cut short":     enc[:len(enc)-1],
		"trailing byte": append(append([]byte(nil), enc...), 0),
		"count too big": {0xff, 0x01},
		"out of order":  unsorted,
		"a Commit":      committed,
	} {
		got := Ledger{claim(Running, RoleClient, 1, 1, 2, 0)}
		err := got.UnmarshalBinary(bad)
		require.ErrorIs(t, err, ErrLedger, name)
		require.Empty(t, got, "%s: a failed decode leaves the ledger empty", name)
	}
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
