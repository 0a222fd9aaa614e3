package dedup

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// maxSize is the largest publication written: Consul's default limit of
// a KV value (kv_max_value_size).
const maxSize = 512 << 10

// encodeData compresses a publication so that it fits in limit bytes. When
// it does not, it drops the largest answers until it does and names them in
// dropped: their followers query those dependencies themselves, which is
// never worse than no dedup, where chunking over several keys could not be
// updated atomically. entries are sorted by id here.
func encodeData(w wireData, limit int) (out []byte, dropped []string, err error) {
	slices.SortFunc(w.Entries, func(a, b wireEntry) int { return strings.Compare(a.ID, b.ID) })
	plain, out, err := compress(&w)
	if err != nil || len(out) <= limit {
		return out, nil, err
	}
	// Drop by size, largest first, aiming below the limit by the ratio the
	// last compression achieved; a few rounds converge.
	bySize := slices.Clone(w.Entries)
	slices.SortStableFunc(bySize, func(a, b wireEntry) int { return cmp.Compare(len(b.Answer), len(a.Answer)) })
	gone := map[string]bool{}
	for round := 0; round < 8 && len(out) > limit; round++ {
		ratio := float64(len(out)) / float64(plain)
		budget := int(float64(limit) * 0.9 / ratio)
		size := plain
		for _, e := range bySize {
			if size <= budget {
				break
			}
			if !gone[e.ID] {
				gone[e.ID] = true
				size -= len(e.Answer)
			}
		}
		kept := w.Entries[:0:0]
		for _, e := range w.Entries {
			if !gone[e.ID] {
				kept = append(kept, e)
			}
		}
		v := w
		v.Entries = kept
		v.Omitted = slices.Concat(w.Omitted, sortedKeys(gone))
		if plain, out, err = compress(&v); err != nil {
			return nil, nil, err
		}
	}
	if len(out) > limit {
		return nil, nil, fmt.Errorf("dedup data does not fit in %d bytes even without answers", limit)
	}
	return out, sortedKeys(gone), nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
