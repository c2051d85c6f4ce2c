//go:build ignore

// lstmcell_gen writes lstmcell_amd64.s, the AVX2/FMA LSTM cell update of
// float32 inference:
//
//	go run lstmcell_gen.go
//
// (run by go generate in this directory). In the 8 lanes of a vector it
// computes what lstmCell computes per unit, in two passes over the units
// (the gate activations, then the state):
//
//	i = σ(a_i), f = σ(a_f), g = tanh(a_g), o = σ(a_o)
//	c = f⊙c + i⊙g,  h = o⊙tanh(c)
//
// with σ(x) = 1/(1+e^-x) and tanh(x) = 1 - 2/(e^2x+1), or its odd series
// for |x| < 1/16, on the exponential of FastExp (Cephes expf: x = n·ln2 +
// r, a degree-6 polynomial for e^r, n added to the exponent bits), with
// the input clamped to [-86, 88] so 2^n stays a normal float. It writes
// i, f, g, o back over the pre-activations, c over c and h to h and out.
// It also writes tanhAVX2, the same tanh in place over a slice (the char
// CNN's features).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"strings"
)

var out = flag.String("out", "lstmcell_amd64.s", "output file")

type gen struct{ bytes.Buffer }

func (g *gen) f(format string, args ...any) { fmt.Fprintf(&g.Buffer, "\t"+format+"\n", args...) }

// Constants of the 8-lane table lstmconst<>, 32 bytes each.
var consts = []struct {
	name string
	bits uint32
}{
	{"sign", 0x80000000},
	{"abs", 0x7fffffff},
	{"one", f32(1)},
	{"two", f32(2)},
	{"half", f32(0.5)},
	{"log2e", f32(1.44269504088896341)},
	{"ln2hi", f32(0.693359375)},
	{"ln2lo", f32(-2.12194440e-4)},
	{"explo", f32(-86)},
	{"exphi", f32(88)},
	{"p0", f32(1.9875691500e-4)},
	{"p1", f32(1.3981999507e-3)},
	{"p2", f32(8.3334519073e-3)},
	{"p3", f32(4.1665795894e-2)},
	{"p4", f32(1.6666665459e-1)},
	{"p5", f32(5.0000001201e-1)},
	{"small", f32(0.0625)},
	{"t3", f32(-17.0 / 315)},
	{"t2", f32(2.0 / 15)},
	{"t1", f32(-1.0 / 3)},
}

func f32(v float64) uint32 { return math.Float32bits(float32(v)) }

// c returns the memory operand of constant name.
func c(name string) string {
	for i, k := range consts {
		if k.name == name {
			return fmt.Sprintf("lstmconst<>+%d(SB)", 32*i)
		}
	}
	log.Fatalf("no constant %s", name)
	return ""
}

// vec names the registers of one 8-lane computation: the value x and
// scratch t1…t4 (t3, t4 only for tanh).
type vec struct{ x, t1, t2, t3, t4 string }

// each emits format once per vec, instruction by instruction across vs:
// independent computations interleaved, so the out-of-order core always
// has ready work instead of one ~70-cycle dependency chain after another.
// In format, {x} {t1} {t2} {t3} {t4} name the vec's registers.
func (g *gen) each(vs []vec, format string) {
	for _, v := range vs {
		r := strings.NewReplacer("{x}", v.x, "{t1}", v.t1, "{t2}", v.t2, "{t3}", v.t3, "{t4}", v.t4)
		g.f("%s", r.Replace(format))
	}
}

// exp sets x = e^x in every vec. The clamp keeps x in the second operand
// of VMAXPS and VMINPS, which they return when either is NaN, so a NaN
// propagates as in FastExp.
func (g *gen) exp(vs []vec) {
	g.each(vs, "VMOVUPS "+c("explo")+", {t1}")
	g.each(vs, "VMAXPS {x}, {t1}, {x}")
	g.each(vs, "VMOVUPS "+c("exphi")+", {t1}")
	g.each(vs, "VMINPS {x}, {t1}, {x}")
	// n = floor(x·log2e + 1/2) in t1; r = x - n·ln2 (two parts) in x.
	g.each(vs, "VMULPS "+c("log2e")+", {x}, {t1}")
	g.each(vs, "VADDPS "+c("half")+", {t1}, {t1}")
	g.each(vs, "VROUNDPS $1, {t1}, {t1}")
	g.each(vs, "VFNMADD231PS "+c("ln2hi")+", {t1}, {x}")
	g.each(vs, "VFNMADD231PS "+c("ln2lo")+", {t1}, {x}")
	// e^r = (p(r)·r + 1)·r + 1, p by Horner in t2.
	g.each(vs, "VMOVUPS "+c("p0")+", {t2}")
	for _, p := range []string{"p1", "p2", "p3", "p4", "p5", "one", "one"} {
		g.each(vs, "VFMADD213PS "+c(p)+", {x}, {t2}")
	}
	// ·2^n: add n to the exponent bits.
	g.each(vs, "VCVTPS2DQ {t1}, {t1}")
	g.each(vs, "VPSLLD $23, {t1}, {t1}")
	g.each(vs, "VPADDD {t1}, {t2}, {x}")
}

// sigmoidPre and sigmoidPost wrap exp into x = 1/(1+e^-x).
func (g *gen) sigmoidPre(vs []vec) { g.each(vs, "VXORPS "+c("sign")+", {x}, {x}") }

func (g *gen) sigmoidPost(vs []vec) {
	g.each(vs, "VADDPS "+c("one")+", {x}, {x}")
	g.each(vs, "VMOVUPS "+c("one")+", {t1}")
	g.each(vs, "VDIVPS {x}, {t1}, {x}")
}

// tanhPre and tanhPost wrap exp into x = tanh(x): 1 - 2/(e^2x+1), or
// x·(1 + x²(-1/3 + x²(2/15 - x²·17/315))) where |x| < 1/16 (the first
// form cancels there). t3 keeps the input.
func (g *gen) tanhPre(vs []vec) {
	g.each(vs, "VMOVAPS {x}, {t3}")
	g.each(vs, "VADDPS {x}, {x}, {x}")
}

func (g *gen) tanhPost(vs []vec) {
	g.each(vs, "VADDPS "+c("one")+", {x}, {x}")
	g.each(vs, "VMOVUPS "+c("two")+", {t1}")
	g.each(vs, "VDIVPS {x}, {t1}, {x}")
	g.each(vs, "VMOVUPS "+c("one")+", {t1}")
	g.each(vs, "VSUBPS {x}, {t1}, {x}")
	// Series in t2, selected where |x| < 1/16.
	g.each(vs, "VMULPS {t3}, {t3}, {t1}")
	g.each(vs, "VMOVUPS "+c("t3")+", {t2}")
	g.each(vs, "VFMADD213PS "+c("t2")+", {t1}, {t2}")
	g.each(vs, "VFMADD213PS "+c("t1")+", {t1}, {t2}")
	g.each(vs, "VFMADD213PS "+c("one")+", {t1}, {t2}")
	g.each(vs, "VMULPS {t3}, {t2}, {t2}")
	g.each(vs, "VANDPS "+c("abs")+", {t3}, {t4}")
	g.each(vs, "VCMPPS $1, "+c("small")+", {t4}, {t4}")
	g.each(vs, "VBLENDVPS {t4}, {t2}, {x}, {x}")
}

// state emits the update of nb vectors of 8 units at byte offsets 32·b:
// c = f·c + i·g (stored), h = o·tanh(c) to h and out.
func (g *gen) state(nb int) {
	vs := []vec{{"Y0", "Y2", "Y3", "Y4", "Y5"}, {"Y1", "Y6", "Y7", "Y8", "Y9"}}[:nb]
	for b, v := range vs {
		d := 32 * b
		g.f("VMOVUPS %d(SI)(DX*1), %s", d, v.x)
		g.f("VMULPS %d(R8), %s, %s", d, v.x, v.x)
		g.f("VMOVUPS %d(SI), %s", d, v.t1)
		g.f("VFMADD231PS %d(SI)(DX*2), %s, %s", d, v.t1, v.x)
		g.f("VMOVUPS %s, %d(R8)", v.x, d)
	}
	g.tanhPre(vs)
	g.exp(vs)
	g.tanhPost(vs)
	for b, v := range vs {
		d := 32 * b
		g.f("VMULPS %d(R11), %s, %s", d, v.x, v.x)
		g.f("VMOVUPS %s, %d(R9)", v.x, d)
		g.f("VMOVUPS %s, %d(R10)", v.x, d)
	}
	for _, r := range []string{"SI", "R11", "R8", "R9", "R10"} {
		g.f("ADDQ $%d, %s", 32*nb, r)
	}
}

func main() {
	flag.Parse()
	var g gen
	g.WriteString("// Code generated by lstmcell_gen.go; DO NOT EDIT.\n\n//go:build amd64 && !purego\n\n#include \"textflag.h\"\n\n")
	for i, k := range consts {
		for l := 0; l < 8; l++ {
			fmt.Fprintf(&g.Buffer, "DATA lstmconst<>+%d(SB)/4, $0x%08x\n", 32*i+4*l, k.bits)
		}
	}
	fmt.Fprintf(&g.Buffer, "GLOBL lstmconst<>(SB), RODATA|NOPTR, $%d\n", 32*len(consts))

	g.WriteString("\n// func lstmCellAVX2(n int, gates *float32, hid int, c, h, out *float32)\n")
	g.WriteString("TEXT ·lstmCellAVX2(SB), NOSPLIT, $0-48\n")
	g.f("MOVQ n+0(FP), CX")
	g.f("MOVQ gates+8(FP), SI")
	g.f("MOVQ hid+16(FP), DX")
	g.f("SHLQ $2, DX")
	g.f("LEAQ (SI)(DX*2), R11") // a_o = gates + 3·hid
	g.f("ADDQ DX, R11")
	g.f("MOVQ c+24(FP), R8")
	g.f("MOVQ h+32(FP), R9")
	g.f("MOVQ out+40(FP), R10")
	g.f("TESTQ CX, CX")
	g.f("JZ done")
	// Two passes over the units: the gates (four independent exponentials
	// per vector), then the state (one tanh per vector, two vectors per
	// iteration). Each is interleaved instruction by instruction (each).
	g.f("MOVQ CX, R12")
	g.f("MOVQ SI, R13")
	g.WriteString("gates:\n")
	g.f("VMOVUPS (SI), Y0")
	g.f("VMOVUPS (SI)(DX*1), Y1")
	g.f("VMOVUPS (SI)(DX*2), Y2")
	g.f("VMOVUPS (R11), Y3")
	sig := []vec{{x: "Y0", t1: "Y4", t2: "Y5"}, {x: "Y1", t1: "Y6", t2: "Y7"}, {x: "Y3", t1: "Y10", t2: "Y11"}}
	tnh := []vec{{"Y2", "Y8", "Y9", "Y12", "Y13"}}
	g.sigmoidPre(sig)
	g.tanhPre(tnh)
	g.exp([]vec{sig[0], sig[1], tnh[0], sig[2]})
	g.sigmoidPost(sig)
	g.tanhPost(tnh)
	g.f("VMOVUPS Y0, (SI)")
	g.f("VMOVUPS Y1, (SI)(DX*1)")
	g.f("VMOVUPS Y2, (SI)(DX*2)")
	g.f("VMOVUPS Y3, (R11)")
	g.f("ADDQ $32, SI")
	g.f("ADDQ $32, R11")
	g.f("SUBQ $8, CX")
	g.f("JNZ gates")
	g.f("MOVQ R13, SI")
	g.f("LEAQ (SI)(DX*2), R11")
	g.f("ADDQ DX, R11")
	g.f("CMPQ R12, $16")
	g.f("JLT state1")
	g.WriteString("state2:\n")
	g.state(2)
	g.f("SUBQ $16, R12")
	g.f("CMPQ R12, $16")
	g.f("JGE state2")
	g.WriteString("state1:\n")
	g.f("TESTQ R12, R12")
	g.f("JZ done")
	g.state(1)
	g.WriteString("done:\n")
	g.f("VZEROUPPER")
	g.f("RET")

	// tanhAVX2: x = tanh(x) in place for n (a multiple of 8) floats, two
	// vectors per iteration while 16 are left.
	g.WriteString("\n// func tanhAVX2(n int, x *float32)\n")
	g.WriteString("TEXT ·tanhAVX2(SB), NOSPLIT, $0-16\n")
	g.f("MOVQ n+0(FP), CX")
	g.f("MOVQ x+8(FP), SI")
	g.f("CMPQ CX, $16")
	g.f("JLT tanh1")
	g.WriteString("tanh2:\n")
	two := []vec{{"Y0", "Y2", "Y3", "Y4", "Y5"}, {"Y1", "Y6", "Y7", "Y8", "Y9"}}
	g.f("VMOVUPS (SI), Y0")
	g.f("VMOVUPS 32(SI), Y1")
	g.tanhPre(two)
	g.exp(two)
	g.tanhPost(two)
	g.f("VMOVUPS Y0, (SI)")
	g.f("VMOVUPS Y1, 32(SI)")
	g.f("ADDQ $64, SI")
	g.f("SUBQ $16, CX")
	g.f("CMPQ CX, $16")
	g.f("JGE tanh2")
	g.WriteString("tanh1:\n")
	g.f("TESTQ CX, CX")
	g.f("JZ tanhdone")
	g.f("VMOVUPS (SI), Y0")
	g.tanhPre(two[:1])
	g.exp(two[:1])
	g.tanhPost(two[:1])
	g.f("VMOVUPS Y0, (SI)")
	g.WriteString("tanhdone:\n")
	g.f("VZEROUPPER")
	g.f("RET")
	if err := os.WriteFile(*out, g.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}
