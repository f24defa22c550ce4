// Package idset prepares lists of resource IDs for the clouds' batched
// reads: checked, without duplicates, in order, and cut into the largest
// chunks one call takes.
package idset

// Prepare checks every ID with check and returns them without duplicates,
// in their first order.
func Prepare(ids []string, check func(id string) error) ([]string, error) {
	out := make([]string, 0, len(ids))
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if err := check(id); err != nil {
			return nil, err
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out, nil
}

// Chunks cuts ids into pieces of at most size.
func Chunks(ids []string, size int) [][]string {
	var out [][]string
	for lo := 0; lo < len(ids); lo += size {
		out = append(out, ids[lo:min(lo+size, len(ids))])
	}
	return out
}
