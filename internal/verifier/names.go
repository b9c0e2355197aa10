package verifier

import (
	"fmt"

	"github.com/verishake/verishake/protocol"
)

// ResolveProfile returns the named profile with the named variant applied,
// naming the flag (--profile, --variant) of a name it does not know.
func ResolveProfile(profile, variant string) (protocol.Profile, error) {
	p, err := protocol.ProfileByName(profile)
	if err != nil {
		return p, fmt.Errorf("--profile: %w", err)
	}
	if variant == "" {
		return p, nil
	}
	v, err := protocol.VariantByName(variant)
	if err != nil {
		return p, fmt.Errorf("--variant: %w", err)
	}
	return v.Of(p), nil
}

// FormatSize writes bytes with a binary unit (KiB, MiB, GiB), as the
// reports and --memory print them.
func FormatSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1fGiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1fMiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1fKiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%dB", n)
}
