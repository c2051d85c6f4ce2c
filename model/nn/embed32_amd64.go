//go:build amd64 && !purego

package nn

// embedBagAVX2 writes into dst[0:cols] (cols a multiple of 8) scale times
// the sum of the rows table[ids[i]·dim : ids[i]·dim+cols] for i < nids, in
// 8-lane vectors (embed32_amd64.s). The ids must be in range: it does no
// bounds checks.
//
//go:noescape
func embedBagAVX2(table *float32, dim int, ids *int32, nids int, dst *float32, cols int, scale float32)

// embedBagVec runs embedBagAVX2 on a non-empty bag with in-range ids.
func embedBagVec(table []float32, dim int, bag []int32, dst []float32, cols int, scale float32) {
	_ = dst[cols-1]
	embedBagAVX2(&table[0], dim, &bag[0], len(bag), &dst[0], cols, scale)
}
