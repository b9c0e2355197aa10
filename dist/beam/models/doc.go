// Package models binds verishake's models to names for the Beam search
// (package bfs): "handshake", the handshake as `verishake check` explores
// it from its flags, and "nspk", the Needham–Schroeder public-key
// protocol of examples/nspk. A binary that runs the search imports it for
// its init functions, so that its workers build the same models.
package models
