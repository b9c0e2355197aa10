package engine

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFingerprintSet(t *testing.T) {
	s := NewFPSet(0)
	for i := range uint64(10000) {
		require.True(t, s.Add(i*0x9e3779b97f4a7c15))
	}
	for i := range uint64(10000) {
		require.False(t, s.Add(i*0x9e3779b97f4a7c15))
		require.True(t, s.Has(i*0x9e3779b97f4a7c15))
	}
	require.False(t, s.Has(12345))
	require.Equal(t, 10000, s.Len())
	require.LessOrEqual(t, s.Bytes()/s.Len(), 16, "at most 16 bytes a state")
}
