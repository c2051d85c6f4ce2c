//go:build !amd64 || purego

package nn

// lstmCellVec has no vector form here: lstmCell does every unit.
func lstmCellVec(row []float32, hid int, c, h, out []float32) int { return 0 }

// tanhVec has no vector form here: Tanh does every element.
func tanhVec(x []float32) int { return 0 }
