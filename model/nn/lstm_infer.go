package nn

// LSTMRecurPacked is LSTMRecur for float32 inference with the recurrent
// weights wh (H×4H) packed once by PackB: gates (steps·batch × 4H,
// time-major) holds x·Wx+b on entry and is overwritten; h and c are
// batch×H scratch, zeroed here; h_t goes to columns [off, off+H) of out
// (row stride ldo). lens gives each sequence's length; sorted in
// descending order, no work is spent on padding.
// It computes what LSTMRecur computes, in the same order, and does not
// allocate. It panics if a buffer is too small.
func LSTMRecurPacked(gates []float32, wh *PackedB, steps, batch int, lens []int32, reverse bool, out []float32, ldo, off int, h, c []float32) {
	hid := wh.K
	if wh.N != 4*hid {
		panic("nn: LSTMRecurPacked: wh is not H×4H")
	}
	clear(h[:batch*hid])
	clear(c[:batch*hid])
	g4 := 4 * hid
	for s := 0; s < steps; s++ {
		t := s
		if reverse {
			t = steps - 1 - s
		}
		gt := gates[t*batch*g4 : (t+1)*batch*g4]
		if act := activeRows(lens, t); s > 0 && act > 0 {
			MulPacked(act, h, hid, wh, 1, gt, g4)
		}
		for b := 0; b < batch; b++ {
			hb := h[b*hid : (b+1)*hid]
			o := out[(t*batch+b)*ldo+off : (t*batch+b)*ldo+off+hid]
			if int32(t) >= lens[b] {
				copy(o, hb)
				continue
			}
			cb := c[b*hid : (b+1)*hid]
			row := gt[b*g4 : (b+1)*g4]
			j0 := lstmCellVec(row, hid, cb, hb, o)
			lstmCell(row, hid, cb, hb, o, j0)
		}
	}
}
