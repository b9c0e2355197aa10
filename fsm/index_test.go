package fsm

import (
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"pgregory.net/rapid"
)

type small uint8

func TestIndexMode(t *testing.T) {
	assert.NotNil(t, newIndex([]small{0, 1, 2}).dense, "iota enums are dense")
	assert.NotNil(t, newIndex([]int8{-128, 127}).dense, "the whole int8 range is dense")
	assert.NotNil(t, newIndex([]int64{-500, 500}).dense)
	assert.Nil(t, newIndex([]int64{0, denseLimit}).dense, "too sparse")
	assert.Nil(t, newIndex([]uint64{0, math.MaxUint64}).dense)
	assert.Nil(t, newIndex([]string{"a"}).dense)
	assert.Nil(t, newIndex([]float64{1, 2}).dense, "floats are not integers")
	assert.Nil(t, newIndex([]bool{true}).dense)
}

// find must agree with a linear search over the declared values for any
// probe, whichever strategy newIndex picked.
func TestIndexFindProperty(t *testing.T) {
	t.Run("int8", func(t *testing.T) { checkFind(t, rapid.Int8()) })
	t.Run("uint16", func(t *testing.T) { checkFind(t, rapid.Uint16Range(0, 2000)) })
	t.Run("int32", func(t *testing.T) { checkFind(t, rapid.Int32Range(-1500, 1500)) })
	t.Run("int64", func(t *testing.T) { checkFind(t, rapid.Int64()) })
	t.Run("int64-small", func(t *testing.T) { checkFind(t, rapid.Int64Range(-700, 700)) })
	t.Run("uintptr", func(t *testing.T) { checkFind(t, rapid.Uintptr()) })
	t.Run("string", func(t *testing.T) { checkFind(t, rapid.StringN(0, 3, -1)) })
}

func checkFind[T comparable](t *testing.T, gen *rapid.Generator[T]) {
	rapid.Check(t, func(t *rapid.T) {
		vals := rapid.SliceOfNDistinct(gen, 1, 20, func(v T) T { return v }).Draw(t, "vals")
		x := newIndex(vals)
		probes := append(rapid.SliceOf(gen).Draw(t, "probes"), vals...)
		for _, p := range probes {
			if got, want := x.find(p), int32(slices.Index(vals, p)); got != want {
				t.Fatalf("find(%v) = %d, want %d (dense=%v)", p, got, want, x.dense != nil)
			}
		}
	})
}
