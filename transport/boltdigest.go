package transport

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"hash/fnv"

	bolt "go.etcd.io/bbolt"
)

// digestBucket holds one key, digestKey, whose value sums up the slots
// bucket: each slot's checksum catches a damaged slot, but not a slot that
// is gone (a damaged page header that counts one element fewer) or one
// that appears. The digest is updated in the transaction of every save and
// checked against the slots when the store opens.
var (
	digestBucket = []byte("verishake.digest.v1")
	digestKey    = []byte("slots")
)

// digestLen is an encoded slotDigest: count, xor, CRC-32C of both.
const digestLen = 8 + 8 + 4

// slotDigest is the number of slots and the XOR of a 64-bit hash of each
// (key and value): an order-free sum that an insert and a delete update
// in constant time.
type slotDigest struct {
	count uint64
	xor   uint64
}

func recordHash(key, val []byte) uint64 {
	h := fnv.New64a()
	h.Write(key)
	h.Write(val)
	return h.Sum64()
}

func (d *slotDigest) add(key, val []byte) {
	d.count++
	d.xor ^= recordHash(key, val)
}

func (d *slotDigest) remove(key, val []byte) {
	d.count--
	d.xor ^= recordHash(key, val)
}

func (d slotDigest) encode() []byte {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, digestLen), d.count)
	b = binary.BigEndian.AppendUint64(b, d.xor)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

func decodeDigest(b []byte) (slotDigest, error) {
	if len(b) != digestLen {
		return slotDigest{}, fmt.Errorf("%w: digest of %d bytes, want %d", ErrCorruptStore, len(b), digestLen)
	}
	if sum, want := binary.BigEndian.Uint32(b[16:]), crc32.Checksum(b[:16], castagnoli); sum != want {
		return slotDigest{}, fmt.Errorf("%w: digest checksum %#08x, want %#08x", ErrCorruptStore, sum, want)
	}
	return slotDigest{count: binary.BigEndian.Uint64(b), xor: binary.BigEndian.Uint64(b[8:])}, nil
}

// readDigest returns the digest stored in tx.
func readDigest(tx *bolt.Tx) (slotDigest, error) {
	b := tx.Bucket(digestBucket)
	if b == nil {
		return slotDigest{}, fmt.Errorf("%w: no bucket %q", ErrCorruptStore, digestBucket)
	}
	return decodeDigest(b.Get(digestKey))
}

// writeDigest stores d in tx, creating its bucket if need be.
func writeDigest(tx *bolt.Tx, d slotDigest) error {
	b, err := tx.CreateBucketIfNotExists(digestBucket)
	if err != nil {
		return err
	}
	return b.Put(digestKey, d.encode())
}
