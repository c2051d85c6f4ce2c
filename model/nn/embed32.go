package nn

// EmbedBags32 is EmbedBags for float32 inference: out row r (n×dim, n =
// len(offs)-1) is the mean of the table rows ids[offs[r]:offs[r+1]], zero
// for an empty bag. Where the CPU has AVX2 it sums a bag's rows in vector
// registers (up to 64 columns at a time, in bag order) and scales once, so
// the result is bit for bit that of EmbedBags (the same additions in the
// same order per element). It does not allocate. It panics if an id is out
// of the table's range or out is too short.
func EmbedBags32(table []float32, dim int, ids, offs []int32, out []float32) {
	n := len(offs) - 1
	if n <= 0 {
		return
	}
	_ = out[n*dim-1]
	rows := len(table) / dim
	cols := 0
	if hasAVX2FMA {
		cols = dim &^ 7
	}
	for r := 0; r < n; r++ {
		dst := out[r*dim : (r+1)*dim]
		bag := ids[offs[r]:offs[r+1]]
		if len(bag) == 0 {
			clear(dst)
			continue
		}
		inv := float32(1)
		if len(bag) > 1 {
			inv = 1 / float32(len(bag))
		}
		if cols > 0 {
			for _, id := range bag {
				if uint(id) >= uint(rows) {
					panic("nn: EmbedBags32 id out of range")
				}
			}
			embedBagVec(table, dim, bag, dst, cols, inv)
		}
		if cols == dim {
			continue
		}
		tail := dst[cols:]
		clear(tail)
		for _, id := range bag {
			src := table[int(id)*dim+cols : int(id+1)*dim]
			for i, v := range src {
				tail[i] += v
			}
		}
		if len(bag) > 1 {
			for i := range tail {
				tail[i] *= inv
			}
		}
	}
}
