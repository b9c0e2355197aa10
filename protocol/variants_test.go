package protocol_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/protocol"
)

func TestVariantsCompileAndChangeSomething(t *testing.T) {
	base := protocol.Hardened()
	seen := map[string]bool{}
	for _, v := range protocol.Variants() {
		require.False(t, seen[v.Name], "duplicate variant %s", v.Name)
		seen[v.Name] = true
		p := v.Of(base)
		require.Equal(t, "hardened+"+v.Name, p.Name)
		_, err := p.Compile()
		require.NoError(t, err, v.Name)
		p.Name = base.Name
		require.NotEqual(t, base, p, "%s changes nothing", v.Name)
		require.Contains(t, []string{protocol.AuthC, protocol.AuthS, protocol.Cmd, protocol.Forge,
			protocol.Bounded, protocol.Live, protocol.Agree}, v.Breaks, v.Name)
	}
	require.Len(t, seen, 10)
	_, err := protocol.VariantByName("nope")
	require.ErrorContains(t, err, "no-command-seq")
}

// A designer's own variant is a few lines against the public API.
func ExampleVariant() {
	longLived := protocol.Variant{
		Name:    "day-long-sessions",
		Breaks:  protocol.Bounded,
		Summary: "sessions live for a day",
		Apply:   func(p *protocol.Profile) { p.Lifetime = 24 * time.Hour },
	}
	p := longLived.Of(protocol.Hardened())
	fmt.Println(p.Name, p.Lifetime)
	// Output: hardened+day-long-sessions 24h0m0s
}
