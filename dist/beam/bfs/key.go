package bfs

import (
	"errors"
	"fmt"
)

// Key is a state's path from the initial state: the index of each action
// among those its state enabled, through the least parent each time, in
// an encoding whose byte order is the paths' lexicographic order. Keys
// of one level have paths of one length, and their order is the order
// in which the single-process explorer holds that level.
type Key []byte

// appendIndex appends action index i to a key: one byte below 2^7, two
// below 2^14, three below 2^21, else five, each class's first bits above
// those of the classes before it, so that byte order is numeric order
// and no encoding is the prefix of another.
func appendIndex(k []byte, i int) []byte {
	switch v := uint32(i); {
	case v < 1<<7:
		return append(k, byte(v))
	case v < 1<<14:
		return append(k, 0x80|byte(v>>8), byte(v))
	case v < 1<<21:
		return append(k, 0xc0|byte(v>>16), byte(v>>8), byte(v))
	default:
		return append(k, 0xe0, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
}

var errKey = errors.New("bfs: a path key is cut short")

// Indices decodes a key into its action indices.
func (k Key) Indices() ([]int32, error) {
	var out []int32
	for len(k) > 0 {
		n := 1
		switch b := k[0]; {
		case b >= 0xe0:
			n = 5
		case b >= 0xc0:
			n = 3
		case b >= 0x80:
			n = 2
		}
		if len(k) < n {
			return nil, errKey
		}
		var v uint32
		switch n {
		case 1:
			v = uint32(k[0])
		case 2:
			v = uint32(k[0]&0x3f)<<8 | uint32(k[1])
		case 3:
			v = uint32(k[0]&0x1f)<<16 | uint32(k[1])<<8 | uint32(k[2])
		default:
			v = uint32(k[1])<<24 | uint32(k[2])<<16 | uint32(k[3])<<8 | uint32(k[4])
		}
		out = append(out, int32(v))
		k = k[n:]
	}
	return out, nil
}

// String shows the path.
func (k Key) String() string {
	idx, err := k.Indices()
	if err != nil {
		return fmt.Sprintf("%x (%v)", []byte(k), err)
	}
	return fmt.Sprint(idx)
}
