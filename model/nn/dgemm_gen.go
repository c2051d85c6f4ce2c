//go:build ignore

// dgemm_gen writes dgemm_amd64.s, the AVX2/FMA micro-kernels of dgemm (the
// float64 twin of sgemm_gen.go):
//
//	go run dgemm_gen.go
//
// (run by go generate in this directory). One kernel per tile height
// mr = 1…6 and layout of A, each 8 columns wide (two 4-lane vectors):
//
//	C[0:mr, 0:8] = alpha·op(A)[0:mr, 0:k]·B[0:k, 0:8] + beta·C[0:mr, 0:8]
//
// dgemmKernel<mr>N reads A row-major (op(A)[i, p] at a[i·lda+p]),
// dgemmKernel<mr>T reads it transposed (op(A)[i, p] at a[p·lda+i]: the mr
// scalars of one k step are adjacent). Either way each scalar is broadcast
// to all lanes and multiplied into a row of B (stride ldb, a packed panel
// or B itself) with VFMADD231PD into 2·mr accumulators. mr = 6 keeps 12
// accumulators busy, enough to hide the 4-cycle FMA latency on two pipes;
// kernels of 1–3 rows alternate two accumulator sets between even and odd
// k steps for the same reason and add them at the end. The k loop is
// unrolled four times.
//
// Before the k loop each kernel prefetches its tile of C, whose lines are
// usually not in any cache by then.
//
// flags bit 0 (beta is zero) makes the epilogue store alpha·AB without
// reading C, so NaNs in C are ignored as BLAS requires; bit 1 stores (and
// loads) only the columns selected by the 8 int64 masks at mask, for a
// panel narrower than 8 columns.
//
// dgemmPack8 and dgemmPack8Mask copy a k×8 panel of B into consecutive
// rows; dgemmPack8T packs a panel of Bᵀ (8 rows of B, read 4 columns at a
// time and transposed in registers).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"
)

var out = flag.String("out", "dgemm_amd64.s", "output file")

type gen struct{ bytes.Buffer }

func (g *gen) f(format string, args ...any) { fmt.Fprintf(&g.Buffer, "\t"+format+"\n", args...) }
func (g *gen) label(l string)               { fmt.Fprintf(&g.Buffer, "%s:\n", l) }

// Integer registers of the kernels; AX holds &C[3, 0] (rows 3-5 of C) from
// the prologue's prefetches to the epilogue.
const (
	rK    = "CX"  // k steps left (tail loop)
	rK4   = "R11" // unrolled iterations left; C rows 3-5 in the epilogue
	rA0   = "SI"  // N: &A[0, p] (rows 0-2); T: &A[p, 0] (steps 0-2)
	rA1   = "DI"  // N: &A[3, p] (rows 3-5); T: &A[p+3, 0] (step 3)
	rLDA  = "DX"  // lda in bytes
	rB    = "BX"  // &B[p, 0]
	rLDB  = "R8"  // ldb in bytes
	rC    = "R9"  // &C[0, 0]
	rLDC  = "R10" // ldc in bytes
	rMask = "R12" // &mask[0]
	rFlag = "R13" // flags
)

// rowAddr returns base + index·scale + disp for the row offsets 0…5 of a
// matrix whose rows 0-2 are addressed from b0 and 3-5 from b1 (= b0 + 3
// strides).
func rowAddr(b0, b1, ld string, r, disp int) string {
	base := b0
	if r >= 3 {
		base, r = b1, r-3
	}
	d := ""
	if disp != 0 {
		d = fmt.Sprint(disp)
	}
	switch r {
	case 0:
		return fmt.Sprintf("%s(%s)", d, base)
	case 1:
		return fmt.Sprintf("%s(%s)(%s*1)", d, base, ld)
	default:
		return fmt.Sprintf("%s(%s)(%s*2)", d, base, ld)
	}
}

// aAddr returns the address of op(A)[r, p+u] (u = step within the unrolled
// iteration).
func aAddr(trans bool, r, u int) string {
	if trans {
		return rowAddr(rA0, rA1, rLDA, u, 8*r)
	}
	return rowAddr(rA0, rA1, rLDA, r, 8*u)
}

// cAddr returns the address of C[r, 0] + disp bytes.
func cAddr(r, disp int) string { return rowAddr(rC, rK4, rLDC, r, disp) }

// acc returns the accumulator of row r, vector half h, set s.
func acc(mr, s, r, h int) string { return fmt.Sprintf("Y%d", s*2*mr+2*r+h) }

// step emits one k step: B row into Y12:Y13, then for each row a broadcast
// of op(A)[r, p+u] and two FMAs into accumulator set s.
func (g *gen) step(mr, s, u int, trans bool) {
	g.f("VMOVUPD (%s), Y12", rB)
	g.f("VMOVUPD 32(%s), Y13", rB)
	g.f("ADDQ %s, %s", rLDB, rB)
	for r := 0; r < mr; r++ {
		bc := "Y14"
		if r%2 == 1 {
			bc = "Y15"
		}
		g.f("VBROADCASTSD %s, %s", aAddr(trans, r, u), bc)
		g.f("VFMADD231PD Y12, %s, %s", bc, acc(mr, s, r, 0))
		g.f("VFMADD231PD Y13, %s, %s", bc, acc(mr, s, r, 1))
	}
}

func (g *gen) kernel(mr int, trans bool) {
	sets := 1
	if mr <= 3 {
		sets = 2
	}
	name := fmt.Sprintf("dgemmKernel%dN", mr)
	if trans {
		name = fmt.Sprintf("dgemmKernel%dT", mr)
	}
	fmt.Fprintf(&g.Buffer, "\n// func %s(k int, a *float64, lda int, b *float64, ldb int, c *float64, ldc int, alpha, beta float64, flags int, mask *int64)\n", name)
	fmt.Fprintf(&g.Buffer, "TEXT ·%s(SB), NOSPLIT, $0-88\n", name)
	g.f("MOVQ k+0(FP), %s", rK)
	g.f("MOVQ a+8(FP), %s", rA0)
	g.f("MOVQ lda+16(FP), %s", rLDA)
	g.f("SHLQ $3, %s", rLDA)
	if mr > 3 || trans {
		g.f("LEAQ (%s)(%s*2), %s", rA0, rLDA, rA1)
		g.f("ADDQ %s, %s", rLDA, rA1)
	}
	g.f("MOVQ b+24(FP), %s", rB)
	g.f("MOVQ ldb+32(FP), %s", rLDB)
	g.f("SHLQ $3, %s", rLDB)
	// Fetch the tile of C (both lines of each row) while the k loop runs:
	// C is usually far larger than the caches, and a miss in the epilogue
	// would stall it for the memory latency.
	g.f("MOVQ c+40(FP), %s", rC)
	g.f("MOVQ ldc+48(FP), %s", rLDC)
	g.f("SHLQ $3, %s", rLDC)
	if mr > 3 {
		g.f("LEAQ (%s)(%s*2), AX", rC, rLDC)
		g.f("ADDQ %s, AX", rLDC)
	}
	for r := 0; r < mr; r++ {
		g.f("PREFETCHT0 %s", rowAddr(rC, "AX", rLDC, r, 0))
		g.f("PREFETCHT0 %s", rowAddr(rC, "AX", rLDC, r, 56))
	}
	for i := 0; i < 2*mr*sets; i++ {
		g.f("VXORPD Y%d, Y%d, Y%d", i, i, i)
	}
	g.f("MOVQ %s, %s", rK, rK4)
	g.f("SHRQ $2, %s", rK4)
	g.f("ANDQ $3, %s", rK)
	g.f("TESTQ %s, %s", rK4, rK4)
	g.f("JZ tail")
	g.label("loop4")
	for u := 0; u < 4; u++ {
		g.step(mr, u%sets, u, trans)
	}
	if trans {
		g.f("LEAQ (%s)(%s*4), %s", rA0, rLDA, rA0)
		g.f("LEAQ (%s)(%s*4), %s", rA1, rLDA, rA1)
	} else {
		g.f("ADDQ $32, %s", rA0)
		if mr > 3 {
			g.f("ADDQ $32, %s", rA1)
		}
	}
	g.f("DECQ %s", rK4)
	g.f("JNZ loop4")
	g.label("tail")
	g.f("TESTQ %s, %s", rK, rK)
	g.f("JZ sum")
	g.label("loop1")
	g.step(mr, 0, 0, trans)
	if trans {
		g.f("ADDQ %s, %s", rLDA, rA0)
	} else {
		g.f("ADDQ $8, %s", rA0)
		if mr > 3 {
			g.f("ADDQ $8, %s", rA1)
		}
	}
	g.f("DECQ %s", rK)
	g.f("JNZ loop1")
	g.label("sum")
	if sets == 2 {
		for r := 0; r < mr; r++ {
			for h := 0; h < 2; h++ {
				g.f("VADDPD %s, %s, %s", acc(mr, 1, r, h), acc(mr, 0, r, h), acc(mr, 0, r, h))
			}
		}
	}
	// Epilogue: Y12 = alpha, Y13 = beta; Y14 mask, Y15 scratch.
	if mr > 3 {
		g.f("MOVQ AX, %s", rK4)
	}
	g.f("VBROADCASTSD alpha+56(FP), Y12")
	g.f("VBROADCASTSD beta+64(FP), Y13")
	g.f("MOVQ flags+72(FP), %s", rFlag)
	g.f("MOVQ mask+80(FP), %s", rMask)
	g.f("BTQ $1, %s", rFlag)
	g.f("JCS masked")
	g.f("BTQ $0, %s", rFlag)
	g.f("JCS full0")
	for r := 0; r < mr; r++ {
		for h := 0; h < 2; h++ {
			a := acc(mr, 0, r, h)
			g.f("VMULPD Y12, %s, %s", a, a)
			g.f("VFMADD231PD %s, Y13, %s", cAddr(r, 32*h), a)
			g.f("VMOVUPD %s, %s", a, cAddr(r, 32*h))
		}
	}
	g.f("VZEROUPPER")
	g.f("RET")
	g.label("full0")
	for r := 0; r < mr; r++ {
		for h := 0; h < 2; h++ {
			a := acc(mr, 0, r, h)
			g.f("VMULPD Y12, %s, %s", a, a)
			g.f("VMOVUPD %s, %s", a, cAddr(r, 32*h))
		}
	}
	g.f("VZEROUPPER")
	g.f("RET")
	g.label("masked")
	g.f("BTQ $0, %s", rFlag)
	g.f("JCS masked0")
	g.masked(mr, true)
	g.label("masked0")
	g.masked(mr, false)
}

// masked emits the epilogue for a panel narrower than 8 columns. VMASKMOVPD
// neither reads nor writes the lanes whose mask is clear.
func (g *gen) masked(mr int, beta bool) {
	for h := 0; h < 2; h++ {
		g.f("VMOVDQU %d(%s), Y14", 32*h, rMask)
		for r := 0; r < mr; r++ {
			a := acc(mr, 0, r, h)
			g.f("VMULPD Y12, %s, %s", a, a)
			if beta {
				g.f("VMASKMOVPD %s, Y14, Y15", cAddr(r, 32*h))
				g.f("VFMADD231PD Y15, Y13, %s", a)
			}
			g.f("VMASKMOVPD %s, Y14, %s", a, cAddr(r, 32*h))
		}
	}
	g.f("VZEROUPPER")
	g.f("RET")
}

// pack emits dgemmPack8 (copy k rows of 8 doubles from stride ldb to a
// contiguous panel) and dgemmPack8Mask (the same for a narrower panel:
// lanes outside the mask are read as zero).
func (g *gen) pack() {
	for _, masked := range []bool{false, true} {
		name, args := "dgemmPack8", "$0-32"
		if masked {
			name, args = "dgemmPack8Mask", "$0-40"
		}
		fmt.Fprintf(&g.Buffer, "\n// func %s(k int, b *float64, ldb int, dst *float64", name)
		if masked {
			fmt.Fprintf(&g.Buffer, ", mask *int64")
		}
		fmt.Fprintf(&g.Buffer, ")\nTEXT ·%s(SB), NOSPLIT, %s\n", name, args)
		g.f("MOVQ k+0(FP), CX")
		g.f("MOVQ b+8(FP), SI")
		g.f("MOVQ ldb+16(FP), DX")
		g.f("SHLQ $3, DX")
		g.f("MOVQ dst+24(FP), DI")
		if masked {
			g.f("MOVQ mask+32(FP), AX")
			g.f("VMOVDQU (AX), Y2")
			g.f("VMOVDQU 32(AX), Y3")
		}
		g.f("TESTQ CX, CX")
		g.f("JZ done")
		g.label("loop")
		if masked {
			g.f("VMASKMOVPD (SI), Y2, Y0")
			g.f("VMASKMOVPD 32(SI), Y3, Y1")
		} else {
			g.f("VMOVUPD (SI), Y0")
			g.f("VMOVUPD 32(SI), Y1")
		}
		g.f("VMOVUPD Y0, (DI)")
		g.f("VMOVUPD Y1, 32(DI)")
		g.f("ADDQ DX, SI")
		g.f("ADDQ $64, DI")
		g.f("DECQ CX")
		g.f("JNZ loop")
		g.label("done")
		g.f("VZEROUPPER")
		g.f("RET")
	}
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

func main() {
	flag.Parse()
	var g gen
	g.WriteString("// Code generated by dgemm_gen.go; DO NOT EDIT.\n\n//go:build amd64 && !purego\n\n#include \"textflag.h\"\n")
	for _, trans := range []bool{false, true} {
		for mr := 1; mr <= 6; mr++ {
			g.kernel(mr, trans)
		}
	}
	g.pack()
	g.packT()
	if err := os.WriteFile(*out, g.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}
