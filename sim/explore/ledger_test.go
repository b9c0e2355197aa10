package explore

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/adversary"
	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/sim"
)

// The explorer's agreement check depends on Tc (issue item 10): a Commit
// whose Tc differs from the peer's Running, all else equal, matches
// nothing, and two ledgers that differ only in a Tc are two states.
func TestAgreementDependsOnTc(t *testing.T) {
	w, err := sim.NewWorld(protocol.Hardened().MustCompile(), sim.WorldOptions{Clients: 1})
	require.NoError(t, err)
	tc1, tc2, ts := protocol.Symbolic(1), protocol.Symbolic(3), protocol.Symbolic(2)
	claim := func(k protocol.ClaimKind, r protocol.Role, tc protocol.Token) protocol.Claim {
		return protocol.Claim{Kind: k, Role: r, RegID: 1, Tc: tc, Ts: ts}
	}
	for _, c := range []struct {
		property       string
		running, order protocol.Role
	}{{protocol.AuthC, protocol.RoleServer, protocol.RoleClient}, {protocol.AuthS, protocol.RoleClient, protocol.RoleServer}} {
		var l ledger
		_, changed := l.observe(claim(protocol.Running, c.running, tc1), w)
		require.True(t, changed)
		prop, changed := l.observe(claim(protocol.Commit, c.order, tc2), w)
		require.Equal(t, c.property, prop, "a Commit on Tc #3 against a Running on Tc #1")
		require.False(t, changed)
		prop, changed = l.observe(claim(protocol.Commit, c.order, tc1), w)
		require.Empty(t, prop, "the same Tc matches")
		require.True(t, changed)
	}

	var a, b ledger
	a.observe(claim(protocol.Running, protocol.RoleClient, tc1), w)
	b.observe(claim(protocol.Running, protocol.RoleClient, tc2), w)
	require.NotEqual(t, a.hash(), b.hash(), "the plain fingerprint sees Tc")
	require.NotEqual(t, a.hashOf(1), b.hashOf(1), "so does a client's share under symmetry")
}

// End to end: a client that skips its Tc check (the no-client-token-check
// variant) takes the Validation of a session the adversary opened with its
// own Tc. Client and server then agree on RegID and Ts but not on Tc, and
// only a check that compares Tc sees AUTH-S broken, with one injection (the
// adversary's Hello).
func TestExplorerCatchesTcMismatch(t *testing.T) {
	v, err := protocol.VariantByName("no-client-token-check")
	require.NoError(t, err)
	p := v.Of(protocol.Hardened())
	p.Retries = 1
	r := run(t, p, Config{Injects: 1, StopOn: []string{protocol.AuthS},
		Adversary: adversary.NewExplorer(adversary.Default(), 1, 2)})
	cex, ok := r.Violated(protocol.AuthS)
	require.True(t, ok, "AUTH-S: the server verified a Tc the client never sent")

	// Replay the counterexample: the server's Commit is on the client's
	// Ts, under another Tc than the client's Running.
	w, err := sim.NewWorld(p.MustCompile(), sim.WorldOptions{Clients: 1, Handshakes: 1, Adversary: sim.NoAdversary{}})
	require.NoError(t, err)
	var client, server protocol.Claim
	for _, s := range cex.Steps {
		res, err := w.Apply(s)
		require.NoError(t, err)
		for _, c := range res.ClaimList() {
			switch {
			case c.Kind == protocol.Running && c.Role == protocol.RoleClient:
				client = c
			case c.Kind == protocol.Commit && c.Role == protocol.RoleServer:
				server = c
			}
		}
	}
	require.Equal(t, client.Ts, server.Ts)
	require.NotEqual(t, client.Tc, server.Tc)
}
