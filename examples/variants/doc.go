// Package variants holds, as tests, behavioural variants of the handshake
// written the way a designer writes one in a package of their own: against
// the public API of protocol (Variant, Hooks, Ext) and checked with
// sim/explore, without editing either. It has no code of its own; read
// example_test.go first, then variants_test.go, and docs/variants.md.
package variants
