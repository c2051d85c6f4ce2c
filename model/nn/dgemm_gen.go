//go:build ignore

// dgemm_gen.go is the float64 half of the generator in sgemm_gen.go, which
// writes dgemm_amd64.s with
//
//	go run sgemm_gen.go dgemm_gen.go -elem float64
//
// It adds what only dgemm has: kernels for a transposed A, the prefetch of
// C, and dgemmPack8T.
package main

import "fmt"

// float64Elem is the element type of dgemm (training: every transposition).
var float64Elem = elem{
	typ: "float64", mask: "int64", prefix: "dgemm",
	size: 8, shift: 3, nr: 8, sfx: "PD", bcast: "VBROADCASTSD",
	trans: true, prefetchC: true,
	extra: (*gen).packT,
}

// packT emits dgemmPack8T: dst[p·8+j] = b[j·ldb+p] for j < 8 and p < 4·k4,
// the panel of Bᵀ in 4-column steps. Rows 0-2 of b are addressed from SI,
// 3-5 from DI and 6-7 from R8; each step loads 4 doubles of every row and
// transposes the two 4×4 blocks with unpacks and 128-bit lane permutes.
func (g *gen) packT() {
	fmt.Fprintf(&g.Buffer, "\n// func dgemmPack8T(k4 int, b *float64, ldb int, dst *float64)\n")
	fmt.Fprintf(&g.Buffer, "TEXT ·dgemmPack8T(SB), NOSPLIT, $0-32\n")
	g.f("MOVQ k4+0(FP), CX")
	g.f("MOVQ b+8(FP), SI")
	g.f("MOVQ ldb+16(FP), DX")
	g.f("SHLQ $3, DX")
	g.f("MOVQ dst+24(FP), BX")
	g.f("LEAQ (SI)(DX*2), DI")
	g.f("ADDQ DX, DI")
	g.f("LEAQ (DI)(DX*2), R8")
	g.f("ADDQ DX, R8")
	g.f("TESTQ CX, CX")
	g.f("JZ done")
	g.label("loop")
	for j := 0; j < 8; j++ {
		var addr string
		if j < 6 {
			addr = rowAddr("SI", "DI", "DX", j, 0)
		} else {
			addr = rowAddr("R8", "", "DX", j-6, 0)
		}
		g.f("VMOVUPD %s, Y%d", addr, j)
	}
	for half := 0; half < 2; half++ {
		r := 4 * half
		g.f("VUNPCKLPD Y%d, Y%d, Y8", r+1, r)
		g.f("VUNPCKHPD Y%d, Y%d, Y9", r+1, r)
		g.f("VUNPCKLPD Y%d, Y%d, Y10", r+3, r+2)
		g.f("VUNPCKHPD Y%d, Y%d, Y11", r+3, r+2)
		// Column p of these four rows goes to dst[p·8 + 4·half].
		g.f("VPERM2F128 $0x20, Y10, Y8, Y12")
		g.f("VPERM2F128 $0x20, Y11, Y9, Y13")
		g.f("VPERM2F128 $0x31, Y10, Y8, Y14")
		g.f("VPERM2F128 $0x31, Y11, Y9, Y15")
		for p, y := range []string{"Y12", "Y13", "Y14", "Y15"} {
			d := 64*p + 32*half
			if d == 0 {
				g.f("VMOVUPD %s, (BX)", y)
			} else {
				g.f("VMOVUPD %s, %d(BX)", y, d)
			}
		}
	}
	g.f("ADDQ $32, SI")
	g.f("ADDQ $32, DI")
	g.f("ADDQ $32, R8")
	g.f("ADDQ $256, BX")
	g.f("DECQ CX")
	g.f("JNZ loop")
	g.label("done")
	g.f("VZEROUPPER")
	g.f("RET")
}
