//go:build ignore

// sgemm_gen and dgemm_gen are one program that writes the AVX2/FMA
// micro-kernels of sgemm (sgemm_amd64.s, float32) and dgemm
// (dgemm_amd64.s, float64):
//
//	go run sgemm_gen.go dgemm_gen.go -elem float32
//	go run sgemm_gen.go dgemm_gen.go -elem float64
//
// (run by go generate in this directory). This file holds the kernels,
// written once for both element types; dgemm_gen.go holds what only
// float64 has. The element type decides the lane count (8 float32s or 4
// float64s per YMM register), the instruction suffix (PS or PD) and the
// broadcast (VBROADCASTSS or VBROADCASTSD); see elem.
//
// One kernel per tile height mr = 1…6, each nr columns wide (two vectors:
// 16 float32s or 8 float64s):
//
//	C[0:mr, 0:nr] = alpha·op(A)[0:mr, 0:k]·B[0:k, 0:nr] + beta·C[0:mr, 0:nr]
//
// sgemmKernel<mr> and dgemmKernel<mr>N read A row-major (op(A)[i, p] at
// a[i·lda+p]); dgemmKernel<mr>T reads it transposed (op(A)[i, p] at
// a[p·lda+i]: the mr scalars of one k step are adjacent). Either way each
// scalar is broadcast to all lanes and multiplied into a row of B (stride
// ldb, a packed panel or B itself) with VFMADD231PS/PD into 2·mr
// accumulators. mr = 6 keeps 12 accumulators busy, enough to hide the
// 4-cycle FMA latency on two pipes; kernels of 1–3 rows alternate two
// accumulator sets between even and odd k steps for the same reason and
// add them at the end. The k loop is unrolled four times.
//
// The float64 kernels prefetch their tile of C before the k loop: its lines
// are usually not in any cache by then.
//
// flags bit 0 (beta is zero) makes the epilogue store alpha·AB without
// reading C, so NaNs in C are ignored as BLAS requires; bit 1 stores (and
// loads) only the columns selected by the nr masks (int32 or int64, one a
// lane) at mask, for a panel narrower than nr columns.
//
// sgemmPack16 and dgemmPack8 (and their Mask forms) copy a k×nr panel of B
// into consecutive rows; dgemmPack8T packs a panel of Bᵀ (dgemm_gen.go).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"
)

var (
	elemName = flag.String("elem", "float32", "element type: float32 (sgemm) or float64 (dgemm)")
	out      = flag.String("out", "", "output file (default <prefix>_amd64.s)")
)

// elem describes one element type of the kernels.
type elem struct {
	typ, mask string // Go types of the elements and of the column masks
	prefix    string // sgemm or dgemm: names the functions and the output
	size      int    // bytes per element
	shift     int    // log2(size): strides in elements to bytes
	nr        int    // columns of a tile: two YMM vectors
	sfx       string // PS or PD: suffix of the packed instructions
	bcast     string // VBROADCASTSS or VBROADCASTSD
	trans     bool   // also emit kernels for a transposed A (suffixes N, T)
	prefetchC bool   // prefetch the tile of C before the k loop
	extra     func(*gen)
}

// float32Elem is the element type of sgemm (no transposes: inference).
var float32Elem = elem{
	typ: "float32", mask: "int32", prefix: "sgemm",
	size: 4, shift: 2, nr: 16, sfx: "PS", bcast: "VBROADCASTSS",
}

type gen struct {
	bytes.Buffer
	e elem
}

func (g *gen) f(format string, args ...any) { fmt.Fprintf(&g.Buffer, "\t"+format+"\n", args...) }
func (g *gen) label(l string)               { fmt.Fprintf(&g.Buffer, "%s:\n", l) }

// op emits a packed instruction: op("VMUL", …) is VMULPS or VMULPD.
func (g *gen) op(mnemonic, format string, args ...any) {
	g.f(mnemonic+g.e.sfx+" "+format, args...)
}

// Integer registers of the kernels; with prefetchC, AX holds &C[3, 0] (rows
// 3-5 of C) from the prologue's prefetches to the epilogue.
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
func (g *gen) aAddr(trans bool, r, u int) string {
	if trans {
		return rowAddr(rA0, rA1, rLDA, u, g.e.size*r)
	}
	return rowAddr(rA0, rA1, rLDA, r, g.e.size*u)
}

// cAddr returns the address of C[r, 0] + disp bytes.
func cAddr(r, disp int) string { return rowAddr(rC, rK4, rLDC, r, disp) }

// acc returns the accumulator of row r, vector half h, set s.
func acc(mr, s, r, h int) string { return fmt.Sprintf("Y%d", s*2*mr+2*r+h) }

// step emits one k step: B row into Y12:Y13, then for each row a broadcast
// of op(A)[r, p+u] and two FMAs into accumulator set s.
func (g *gen) step(mr, s, u int, trans bool) {
	g.op("VMOVU", "(%s), Y12", rB)
	g.op("VMOVU", "32(%s), Y13", rB)
	g.f("ADDQ %s, %s", rLDB, rB)
	for r := 0; r < mr; r++ {
		bc := "Y14"
		if r%2 == 1 {
			bc = "Y15"
		}
		g.f("%s %s, %s", g.e.bcast, g.aAddr(trans, r, u), bc)
		g.op("VFMADD231", "Y12, %s, %s", bc, acc(mr, s, r, 0))
		g.op("VFMADD231", "Y13, %s, %s", bc, acc(mr, s, r, 1))
	}
}

func (g *gen) kernel(mr int, trans bool) {
	e := g.e
	sets := 1
	if mr <= 3 {
		sets = 2
	}
	name := fmt.Sprintf("%sKernel%d", e.prefix, mr)
	if e.trans {
		if trans {
			name += "T"
		} else {
			name += "N"
		}
	}
	// Arguments: 7 words, then alpha, beta, flags and mask.
	alpha := 56
	beta := alpha + e.size
	flags := beta + e.size
	fmt.Fprintf(&g.Buffer, "\n// func %s(k int, a *%s, lda int, b *%[2]s, ldb int, c *%[2]s, ldc int, alpha, beta %[2]s, flags int, mask *%s)\n", name, e.typ, e.mask)
	fmt.Fprintf(&g.Buffer, "TEXT ·%s(SB), NOSPLIT, $0-%d\n", name, flags+16)
	g.f("MOVQ k+0(FP), %s", rK)
	g.f("MOVQ a+8(FP), %s", rA0)
	g.f("MOVQ lda+16(FP), %s", rLDA)
	g.f("SHLQ $%d, %s", e.shift, rLDA)
	if mr > 3 || trans {
		g.f("LEAQ (%s)(%s*2), %s", rA0, rLDA, rA1)
		g.f("ADDQ %s, %s", rLDA, rA1)
	}
	g.f("MOVQ b+24(FP), %s", rB)
	g.f("MOVQ ldb+32(FP), %s", rLDB)
	g.f("SHLQ $%d, %s", e.shift, rLDB)
	if e.prefetchC {
		// Fetch the tile of C (both lines of each row) while the k loop
		// runs: C is usually far larger than the caches, and a miss in the
		// epilogue would stall it for the memory latency.
		g.cPointers(mr, "AX")
		for r := 0; r < mr; r++ {
			g.f("PREFETCHT0 %s", rowAddr(rC, "AX", rLDC, r, 0))
			g.f("PREFETCHT0 %s", rowAddr(rC, "AX", rLDC, r, 56))
		}
	}
	for i := 0; i < 2*mr*sets; i++ {
		g.op("VXOR", "Y%d, Y%d, Y%d", i, i, i)
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
		g.f("ADDQ $%d, %s", 4*e.size, rA0)
		if mr > 3 {
			g.f("ADDQ $%d, %s", 4*e.size, rA1)
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
		g.f("ADDQ $%d, %s", e.size, rA0)
		if mr > 3 {
			g.f("ADDQ $%d, %s", e.size, rA1)
		}
	}
	g.f("DECQ %s", rK)
	g.f("JNZ loop1")
	g.label("sum")
	if sets == 2 {
		for r := 0; r < mr; r++ {
			for h := 0; h < 2; h++ {
				g.op("VADD", "%s, %s, %s", acc(mr, 1, r, h), acc(mr, 0, r, h), acc(mr, 0, r, h))
			}
		}
	}
	// Epilogue: Y12 = alpha, Y13 = beta; Y14 mask, Y15 scratch.
	if !e.prefetchC {
		g.cPointers(mr, rK4)
	} else if mr > 3 {
		g.f("MOVQ AX, %s", rK4)
	}
	g.f("%s alpha+%d(FP), Y12", e.bcast, alpha)
	g.f("%s beta+%d(FP), Y13", e.bcast, beta)
	g.f("MOVQ flags+%d(FP), %s", flags, rFlag)
	g.f("MOVQ mask+%d(FP), %s", flags+8, rMask)
	g.f("BTQ $1, %s", rFlag)
	g.f("JCS masked")
	g.f("BTQ $0, %s", rFlag)
	g.f("JCS full0")
	for r := 0; r < mr; r++ {
		for h := 0; h < 2; h++ {
			a := acc(mr, 0, r, h)
			g.op("VMUL", "Y12, %s, %s", a, a)
			g.op("VFMADD231", "%s, Y13, %s", cAddr(r, 32*h), a)
			g.op("VMOVU", "%s, %s", a, cAddr(r, 32*h))
		}
	}
	g.f("VZEROUPPER")
	g.f("RET")
	g.label("full0")
	for r := 0; r < mr; r++ {
		for h := 0; h < 2; h++ {
			a := acc(mr, 0, r, h)
			g.op("VMUL", "Y12, %s, %s", a, a)
			g.op("VMOVU", "%s, %s", a, cAddr(r, 32*h))
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

// cPointers loads &C[0, 0] into rC, ldc in bytes into rLDC and, for tiles
// of more than 3 rows, &C[3, 0] into rows3.
func (g *gen) cPointers(mr int, rows3 string) {
	g.f("MOVQ c+40(FP), %s", rC)
	g.f("MOVQ ldc+48(FP), %s", rLDC)
	g.f("SHLQ $%d, %s", g.e.shift, rLDC)
	if mr > 3 {
		g.f("LEAQ (%s)(%s*2), %s", rC, rLDC, rows3)
		g.f("ADDQ %s, %s", rLDC, rows3)
	}
}

// masked emits the epilogue for a panel narrower than nr columns.
// VMASKMOVPS/PD neither reads nor writes the lanes whose mask is clear.
func (g *gen) masked(mr int, beta bool) {
	for h := 0; h < 2; h++ {
		g.f("VMOVDQU %d(%s), Y14", 32*h, rMask)
		for r := 0; r < mr; r++ {
			a := acc(mr, 0, r, h)
			g.op("VMUL", "Y12, %s, %s", a, a)
			if beta {
				g.op("VMASKMOV", "%s, Y14, Y15", cAddr(r, 32*h))
				g.op("VFMADD231", "Y15, Y13, %s", a)
			}
			g.op("VMASKMOV", "%s, Y14, %s", a, cAddr(r, 32*h))
		}
	}
	g.f("VZEROUPPER")
	g.f("RET")
}

// pack emits <prefix>Pack<nr> (copy k rows of nr elements from stride ldb
// to a contiguous panel) and <prefix>Pack<nr>Mask (the same for a narrower
// panel: lanes outside the mask are read as zero).
func (g *gen) pack() {
	e := g.e
	for _, masked := range []bool{false, true} {
		name, args := fmt.Sprintf("%sPack%d", e.prefix, e.nr), "$0-32"
		if masked {
			name, args = name+"Mask", "$0-40"
		}
		fmt.Fprintf(&g.Buffer, "\n// func %s(k int, b *%s, ldb int, dst *%[2]s", name, e.typ)
		if masked {
			fmt.Fprintf(&g.Buffer, ", mask *%s", e.mask)
		}
		fmt.Fprintf(&g.Buffer, ")\nTEXT ·%s(SB), NOSPLIT, %s\n", name, args)
		g.f("MOVQ k+0(FP), CX")
		g.f("MOVQ b+8(FP), SI")
		g.f("MOVQ ldb+16(FP), DX")
		g.f("SHLQ $%d, DX", e.shift)
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
			g.op("VMASKMOV", "(SI), Y2, Y0")
			g.op("VMASKMOV", "32(SI), Y3, Y1")
		} else {
			g.op("VMOVU", "(SI), Y0")
			g.op("VMOVU", "32(SI), Y1")
		}
		g.op("VMOVU", "Y0, (DI)")
		g.op("VMOVU", "Y1, 32(DI)")
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
	g := gen{}
	switch *elemName {
	case "float32":
		g.e = float32Elem
	case "float64":
		g.e = float64Elem
	default:
		log.Fatalf("-elem %q: want float32 or float64", *elemName)
	}
	e := g.e
	fmt.Fprintf(&g.Buffer, "// Code generated by %s_gen.go; DO NOT EDIT.\n\n//go:build amd64 && !purego\n\n#include \"textflag.h\"\n", e.prefix)
	for _, trans := range []bool{false, true} {
		if trans && !e.trans {
			break
		}
		for mr := 1; mr <= 6; mr++ {
			g.kernel(mr, trans)
		}
	}
	g.pack()
	if e.extra != nil {
		e.extra(&g)
	}
	name := *out
	if name == "" {
		name = e.prefix + "_amd64.s"
	}
	if err := os.WriteFile(name, g.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}
