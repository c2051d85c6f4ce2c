//go:build ignore

// sgemm_gen writes sgemm_amd64.s, the AVX2/FMA micro-kernels of sgemm:
//
//	go run sgemm_gen.go
//
// (run by go generate in this directory). One kernel per tile height
// mr = 1…6, each 16 columns wide (two 8-lane vectors):
//
//	C[0:mr, 0:16] = alpha·A[0:mr, 0:k]·B[0:k, 0:16] + beta·C[0:mr, 0:16]
//
// A is read in place (row stride lda): each of its elements is broadcast to
// all lanes and multiplied into a row of B (stride ldb, a packed panel or B
// itself) with VFMADD231PS into 2·mr accumulators. mr = 6 keeps 12
// accumulators busy, enough to hide the 4-cycle FMA latency on two pipes;
// kernels of 1–3 rows alternate two accumulator sets between even and odd
// k steps for the same reason and add them at the end. The k loop is
// unrolled four times.
//
// flags bit 0 (beta is zero) makes the epilogue store alpha·AB without
// reading C, so NaNs in C are ignored as BLAS requires; bit 1 stores (and
// loads) only the columns selected by the 16 int32 masks at mask, for a
// panel narrower than 16 columns.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"
)

var out = flag.String("out", "sgemm_amd64.s", "output file")

type gen struct{ bytes.Buffer }

func (g *gen) f(format string, args ...any) { fmt.Fprintf(&g.Buffer, "\t"+format+"\n", args...) }
func (g *gen) label(l string)               { fmt.Fprintf(&g.Buffer, "%s:\n", l) }

// Integer registers of the kernels.
const (
	rK    = "CX"  // k steps left (tail loop)
	rK4   = "R11" // unrolled iterations left; C rows 3-5 in the epilogue
	rA0   = "SI"  // &A[0, p]: rows 0-2
	rA1   = "DI"  // &A[3, p]: rows 3-5
	rLDA  = "DX"  // lda in bytes
	rB    = "BX"  // &B[p, 0]
	rLDB  = "R8"  // ldb in bytes
	rC    = "R9"  // &C[0, 0]
	rLDC  = "R10" // ldc in bytes
	rMask = "R12" // &mask[0]
	rFlag = "R13" // flags
)

// aAddr returns the address of A[r, p] + disp bytes.
func aAddr(r, disp int) string {
	base := rA0
	if r >= 3 {
		base, r = rA1, r-3
	}
	d := ""
	if disp != 0 {
		d = fmt.Sprint(disp)
	}
	switch r {
	case 0:
		return fmt.Sprintf("%s(%s)", d, base)
	case 1:
		return fmt.Sprintf("%s(%s)(%s*1)", d, base, rLDA)
	default:
		return fmt.Sprintf("%s(%s)(%s*2)", d, base, rLDA)
	}
}

// cAddr returns the address of C[r, 0] + disp bytes.
func cAddr(r, disp int) string {
	base := rC
	if r >= 3 {
		base, r = rK4, r-3
	}
	d := ""
	if disp != 0 {
		d = fmt.Sprint(disp)
	}
	switch r {
	case 0:
		return fmt.Sprintf("%s(%s)", d, base)
	case 1:
		return fmt.Sprintf("%s(%s)(%s*1)", d, base, rLDC)
	default:
		return fmt.Sprintf("%s(%s)(%s*2)", d, base, rLDC)
	}
}

// acc returns the accumulator of row r, vector half h, set s.
func acc(mr, s, r, h int) string { return fmt.Sprintf("Y%d", s*2*mr+2*r+h) }

// step emits one k step: B row into Y12:Y13, then for each row a broadcast
// of A[r, p+disp/4] and two FMAs into accumulator set s.
func (g *gen) step(mr, s, disp int) {
	g.f("VMOVUPS (%s), Y12", rB)
	g.f("VMOVUPS 32(%s), Y13", rB)
	g.f("ADDQ %s, %s", rLDB, rB)
	for r := 0; r < mr; r++ {
		bc := "Y14"
		if r%2 == 1 {
			bc = "Y15"
		}
		g.f("VBROADCASTSS %s, %s", aAddr(r, disp), bc)
		g.f("VFMADD231PS Y12, %s, %s", bc, acc(mr, s, r, 0))
		g.f("VFMADD231PS Y13, %s, %s", bc, acc(mr, s, r, 1))
	}
}

func (g *gen) kernel(mr int) {
	sets := 1
	if mr <= 3 {
		sets = 2
	}
	fmt.Fprintf(&g.Buffer, "\n// func sgemmKernel%d(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, flags int, mask *int32)\n", mr)
	fmt.Fprintf(&g.Buffer, "TEXT ·sgemmKernel%d(SB), NOSPLIT, $0-80\n", mr)
	g.f("MOVQ k+0(FP), %s", rK)
	g.f("MOVQ a+8(FP), %s", rA0)
	g.f("MOVQ lda+16(FP), %s", rLDA)
	g.f("SHLQ $2, %s", rLDA)
	if mr > 3 {
		g.f("LEAQ (%s)(%s*2), %s", rA0, rLDA, rA1)
		g.f("ADDQ %s, %s", rLDA, rA1)
	}
	g.f("MOVQ b+24(FP), %s", rB)
	g.f("MOVQ ldb+32(FP), %s", rLDB)
	g.f("SHLQ $2, %s", rLDB)
	for i := 0; i < 2*mr*sets; i++ {
		g.f("VXORPS Y%d, Y%d, Y%d", i, i, i)
	}
	g.f("MOVQ %s, %s", rK, rK4)
	g.f("SHRQ $2, %s", rK4)
	g.f("ANDQ $3, %s", rK)
	g.f("TESTQ %s, %s", rK4, rK4)
	g.f("JZ tail")
	g.label("loop4")
	for u := 0; u < 4; u++ {
		g.step(mr, u%sets, 4*u)
	}
	g.f("ADDQ $16, %s", rA0)
	if mr > 3 {
		g.f("ADDQ $16, %s", rA1)
	}
	g.f("DECQ %s", rK4)
	g.f("JNZ loop4")
	g.label("tail")
	g.f("TESTQ %s, %s", rK, rK)
	g.f("JZ sum")
	g.label("loop1")
	g.step(mr, 0, 0)
	g.f("ADDQ $4, %s", rA0)
	if mr > 3 {
		g.f("ADDQ $4, %s", rA1)
	}
	g.f("DECQ %s", rK)
	g.f("JNZ loop1")
	g.label("sum")
	if sets == 2 {
		for r := 0; r < mr; r++ {
			for h := 0; h < 2; h++ {
				g.f("VADDPS %s, %s, %s", acc(mr, 1, r, h), acc(mr, 0, r, h), acc(mr, 0, r, h))
			}
		}
	}
	// Epilogue: Y12 = alpha, Y13 = beta; Y14 mask, Y15 scratch.
	g.f("MOVQ c+40(FP), %s", rC)
	g.f("MOVQ ldc+48(FP), %s", rLDC)
	g.f("SHLQ $2, %s", rLDC)
	if mr > 3 {
		g.f("LEAQ (%s)(%s*2), %s", rC, rLDC, rK4)
		g.f("ADDQ %s, %s", rLDC, rK4)
	}
	g.f("VBROADCASTSS alpha+56(FP), Y12")
	g.f("VBROADCASTSS beta+60(FP), Y13")
	g.f("MOVQ flags+64(FP), %s", rFlag)
	g.f("MOVQ mask+72(FP), %s", rMask)
	g.f("BTQ $1, %s", rFlag)
	g.f("JCS masked")
	g.f("BTQ $0, %s", rFlag)
	g.f("JCS full0")
	for r := 0; r < mr; r++ {
		for h := 0; h < 2; h++ {
			a := acc(mr, 0, r, h)
			g.f("VMULPS Y12, %s, %s", a, a)
			g.f("VFMADD231PS %s, Y13, %s", cAddr(r, 32*h), a)
			g.f("VMOVUPS %s, %s", a, cAddr(r, 32*h))
		}
	}
	g.f("VZEROUPPER")
	g.f("RET")
	g.label("full0")
	for r := 0; r < mr; r++ {
		for h := 0; h < 2; h++ {
			a := acc(mr, 0, r, h)
			g.f("VMULPS Y12, %s, %s", a, a)
			g.f("VMOVUPS %s, %s", a, cAddr(r, 32*h))
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

// masked emits the epilogue for a panel narrower than 16 columns. VMASKMOVPS
// neither reads nor writes the lanes whose mask is clear.
func (g *gen) masked(mr int, beta bool) {
	for h := 0; h < 2; h++ {
		g.f("VMOVDQU %d(%s), Y14", 32*h, rMask)
		for r := 0; r < mr; r++ {
			a := acc(mr, 0, r, h)
			g.f("VMULPS Y12, %s, %s", a, a)
			if beta {
				g.f("VMASKMOVPS %s, Y14, Y15", cAddr(r, 32*h))
				g.f("VFMADD231PS Y15, Y13, %s", a)
			}
			g.f("VMASKMOVPS %s, Y14, %s", a, cAddr(r, 32*h))
		}
	}
	g.f("VZEROUPPER")
	g.f("RET")
}

// pack emits sgemmPack16 (copy k rows of 16 floats from stride ldb to a
// contiguous panel) and sgemmPack16Mask (the same for a narrower panel:
// lanes outside the mask are read as zero).
func (g *gen) pack() {
	for _, masked := range []bool{false, true} {
		name, args := "sgemmPack16", "$0-32"
		if masked {
			name, args = "sgemmPack16Mask", "$0-40"
		}
		fmt.Fprintf(&g.Buffer, "\n// func %s(k int, b *float32, ldb int, dst *float32", name)
		if masked {
			fmt.Fprintf(&g.Buffer, ", mask *int32")
		}
		fmt.Fprintf(&g.Buffer, ")\nTEXT ·%s(SB), NOSPLIT, %s\n", name, args)
		g.f("MOVQ k+0(FP), CX")
		g.f("MOVQ b+8(FP), SI")
		g.f("MOVQ ldb+16(FP), DX")
		g.f("SHLQ $2, DX")
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
			g.f("VMASKMOVPS (SI), Y2, Y0")
			g.f("VMASKMOVPS 32(SI), Y3, Y1")
		} else {
			g.f("VMOVUPS (SI), Y0")
			g.f("VMOVUPS 32(SI), Y1")
		}
		g.f("VMOVUPS Y0, (DI)")
		g.f("VMOVUPS Y1, 32(DI)")
		g.f("ADDQ DX, SI")
		g.f("ADDQ $64, DI")
		g.f("DECQ CX")
		g.f("JNZ loop")
		g.label("done")
		g.f("VZEROUPPER")
		g.f("RET")
	}
}

func main() {
	flag.Parse()
	var g gen
	g.WriteString("// Code generated by sgemm_gen.go; DO NOT EDIT.\n\n//go:build amd64 && !purego\n\n#include \"textflag.h\"\n")
	for mr := 1; mr <= 6; mr++ {
		g.kernel(mr)
	}
	g.pack()
	if err := os.WriteFile(*out, g.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}
