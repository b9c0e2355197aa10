package bfs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
)

// The work path's records, all little-endian. A frontier record is a
// state: its fingerprint, its key and its encoding, each variable part
// after its length as a uvarint (the engine's level files hold the
// encoding the same way). A candidate, what the shuffle carries, is a
// successor: its fingerprint, its parent's, its key and its encoding (to
// the end). A parent record is a new state's fingerprint, its parent's
// and the action's index (8+8+4 bytes); a level's parent records are
// sorted by fingerprint. The shuffle carries candidates in batches, each
// after its length as a uvarint. A visited update is 8-byte fingerprints.

const parentRecordSize = 20

var errRecord = errors.New("bfs: a record is cut short or malformed")

func appendFrontier(dst []byte, fp uint64, key, enc []byte) []byte {
	dst = binary.LittleEndian.AppendUint64(dst, fp)
	dst = binary.AppendUvarint(dst, uint64(len(key)))
	dst = append(dst, key...)
	dst = binary.AppendUvarint(dst, uint64(len(enc)))
	return append(dst, enc...)
}

// nextFrontier reads the record at the start of src and returns the rest.
func nextFrontier(src []byte) (fp uint64, key, enc, rest []byte, err error) {
	if len(src) < 8 {
		return 0, nil, nil, nil, errRecord
	}
	fp, src = binary.LittleEndian.Uint64(src), src[8:]
	if key, src, err = lengthPrefixed(src); err != nil {
		return 0, nil, nil, nil, err
	}
	enc, rest, err = lengthPrefixed(src)
	return fp, key, enc, rest, err
}

func lengthPrefixed(src []byte) ([]byte, []byte, error) {
	n, k := binary.Uvarint(src)
	if k <= 0 || uint64(len(src)-k) < n {
		return nil, nil, errRecord
	}
	return src[k : k+int(n)], src[k+int(n):], nil
}

// candidate is a successor on its way to its partition.
type candidate struct {
	fp, parent uint64
	key, enc   []byte
}

func (c *candidate) append(dst []byte) []byte {
	dst = binary.LittleEndian.AppendUint64(dst, c.fp)
	dst = binary.LittleEndian.AppendUint64(dst, c.parent)
	dst = binary.AppendUvarint(dst, uint64(len(c.key)))
	dst = append(dst, c.key...)
	return append(dst, c.enc...)
}

func decodeCandidate(src []byte) (candidate, error) {
	if len(src) < 16 {
		return candidate{}, errRecord
	}
	c := candidate{fp: binary.LittleEndian.Uint64(src), parent: binary.LittleEndian.Uint64(src[8:])}
	var err error
	c.key, c.enc, err = lengthPrefixed(src[16:])
	return c, err
}

// before reports whether c was reached first in search order: by the
// lesser key.
func (c *candidate) before(d *candidate) bool { return bytes.Compare(c.key, d.key) < 0 }

func appendParent(dst []byte, fp, parent uint64, action int32) []byte {
	dst = binary.LittleEndian.AppendUint64(dst, fp)
	dst = binary.LittleEndian.AppendUint64(dst, parent)
	return binary.LittleEndian.AppendUint32(dst, uint32(action))
}

// findParent looks fp up in a level's parent records.
func findParent(records []byte, fp uint64) (parent uint64, action int32, err error) {
	if len(records)%parentRecordSize != 0 {
		return 0, 0, fmt.Errorf("%w: %d bytes of parent records", errRecord, len(records))
	}
	lo, hi := 0, len(records)/parentRecordSize
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if binary.LittleEndian.Uint64(records[mid*parentRecordSize:]) < fp {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if r := records[min(lo, len(records)/parentRecordSize)*parentRecordSize:]; len(r) >= parentRecordSize && binary.LittleEndian.Uint64(r) == fp {
		return binary.LittleEndian.Uint64(r[8:]), int32(binary.LittleEndian.Uint32(r[16:])), nil
	}
	return 0, 0, fmt.Errorf("bfs: no parent record of state %016x", fp)
}

// partitionOf is the fingerprint range fp falls in, of n equal ranges.
func partitionOf(fp uint64, n int) int {
	hi, _ := bits.Mul64(fp, uint64(n))
	return int(hi)
}

// violation is a property's least violation in search order within what
// one expansion saw: at the state of key (fingerprint fp), by action
// (-1: the state itself).
type violation struct {
	Property int    `json:"property"`
	Key      []byte `json:"key"`
	FP       uint64 `json:"fp"`
	Action   int    `json:"action"`
	Reason   string `json:"reason"`
}

// before reports whether v comes first in search order.
func (v *violation) before(w *violation) bool {
	if c := bytes.Compare(v.Key, w.Key); c != 0 {
		return c < 0
	}
	return v.Action < w.Action
}

// expandResult is what expanding one frontier shard found.
type expandResult struct {
	States      int            `json:"states"`
	Transitions uint64         `json:"transitions"`
	Taken       map[int]uint64 `json:"taken,omitempty"`
	Violations  []violation    `json:"violations,omitempty"`
	// Candidates and Shuffled are the successors the shard sent to the
	// shuffle and their bytes (keys and values, before the runner's own
	// framing).
	Candidates int   `json:"candidates"`
	Shuffled   int64 `json:"shuffled"`
}

// joinResult is what joining one partition wrote.
type joinResult struct {
	New int `json:"new"`
	// Bytes is what the join wrote: the frontier shard (Frontier of
	// them), the parent records and the visited update.
	Bytes    int64 `json:"bytes"`
	Frontier int64 `json:"frontier"`
}
