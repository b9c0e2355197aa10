package sim

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/adversary"
	"github.com/verishake/verishake/protocol"
)

// mirror is s with clients 0 and 1 (RegIDs 1 and 2) swapped.
func mirror(s Step) Step {
	swap := func(id protocol.RegID) protocol.RegID {
		switch id {
		case 1:
			return 2
		case 2:
			return 1
		}
		return id
	}
	switch s.Kind {
	case StepClientTimer, StepStart:
		s.Client = 1 - s.Client
	case StepServerTimer, StepIssue:
		s.RegID = swap(s.RegID)
	case StepInject:
		s.Msg.RegID = swap(s.Msg.RegID)
	}
	return s
}

func twoClientWorld(t *testing.T, adv Adversary) *World {
	t.Helper()
	return newTestWorld(t, protocol.Hardened(), WorldOptions{Clients: 2, Handshakes: 4, Commands: 1, Adversary: adv,
		Limits: Limits{Drops: 2, Dups: 2, Corrupts: 1, Injects: 3, StartsPerClient: 2}})
}

// walkTwins takes up to 40 random steps of a, chosen by seed, each taken
// in b as twin(s), and calls check before each; it returns how many times
// the plain fingerprints of a and b differed.
func walkTwins(t *testing.T, seed uint64, a, b *World, twin func(Step) Step, check func()) int {
	t.Helper()
	differ := 0
	rng := rand.New(rand.NewPCG(seed, 2))
	for range 40 {
		check()
		if a.Fingerprint() != b.Fingerprint() {
			differ++
		}
		steps := a.Enabled(nil)
		if len(steps) == 0 {
			break
		}
		s := steps[rng.IntN(len(steps))]
		_, errA := a.Apply(s)
		_, errB := b.Apply(twin(s))
		require.NoError(t, errA)
		require.NoError(t, errB, "the twin of %v", s)
	}
	return differ
}

// TestSymmetricFingerprintOfAMirror: a walk and its mirror image (every
// step taken by the other client) reach worlds that are renamings of each
// other, step after step: their symmetric fingerprints agree, their plain
// fingerprints need not.
func TestSymmetricFingerprintOfAMirror(t *testing.T) {
	extra := func(id protocol.RegID) uint64 { return 0 }
	differ := 0
	for seed := range uint64(30) {
		newAdv := func() *adversary.Explorer {
			x := adversary.NewExplorer(adversary.Default(), 2, 3)
			x.SetBudget(3)
			return x
		}
		a, b := twoClientWorld(t, newAdv()), twoClientWorld(t, newAdv())
		require.True(t, a.Symmetric())
		differ += walkTwins(t, seed, a, b, mirror, func() {
			require.Equal(t, a.SymmetricFingerprint(extra), b.SymmetricFingerprint(extra), "seed %d", seed)
		})
	}
	require.Greater(t, differ, 100, "the plain fingerprint tells the mirrors apart")
}

// TestSymmetricFingerprintTellsStatesApart: worlds that are not
// renamings of each other get different symmetric fingerprints, and
// extra counts as part of its client's share.
func TestSymmetricFingerprintTellsStatesApart(t *testing.T) {
	zero := func(protocol.RegID) uint64 { return 0 }
	idle := twoClientWorld(t, nil)
	one := twoClientWorld(t, nil)
	apply(t, one, Step{Kind: StepStart, Client: 1})
	both := one.Clone()
	apply(t, both, Step{Kind: StepStart, Client: 0})
	fps := map[uint64]string{}
	for name, w := range map[string]*World{"idle": idle, "one started": one, "both started": both} {
		fp := w.SymmetricFingerprint(zero)
		require.NotContains(t, fps, fp, "%s and %s", name, fps[fp])
		fps[fp] = name
	}
	// The same claims held about client 1 or about client 2: one state;
	// about client 1 only or about both: two.
	on := func(ids ...protocol.RegID) func(protocol.RegID) uint64 {
		return func(id protocol.RegID) uint64 {
			for _, x := range ids {
				if x == id {
					return 7
				}
			}
			return 0
		}
	}
	require.Equal(t, idle.SymmetricFingerprint(on(1)), idle.SymmetricFingerprint(on(2)))
	require.NotEqual(t, idle.SymmetricFingerprint(on(1)), idle.SymmetricFingerprint(on(1, 2)))
	require.NotEqual(t, idle.SymmetricFingerprint(on(1)), idle.SymmetricFingerprint(zero))
}

// TestSymmetricOnlyForAnEvenHandedAdversary: an adversary that targets
// some honest clients only, or owns an honest RegID, tells clients apart.
func TestSymmetricOnlyForAnEvenHandedAdversary(t *testing.T) {
	require.True(t, twoClientWorld(t, nil).Symmetric())
	require.True(t, twoClientWorld(t, adversary.NewExplorer(adversary.Default(), 2, 3)).Symmetric())
	one := adversary.NewExplorer(adversary.Default(), 2, 3)
	one.Targets = one.Targets[:1]
	require.False(t, twoClientWorld(t, one).Symmetric())
	require.False(t, twoClientWorld(t, adversary.NewExplorer(adversary.Default(), 2, 2)).Symmetric())
	require.False(t, twoClientWorld(t, &recorder{}).Symmetric())
}
