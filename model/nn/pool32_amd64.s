//go:build amd64 && !purego

#include "textflag.h"

// func poolAVX2(x *float32, stride, n, cols int, mx, mean *float32, scale float32)
//
// Per block of 32 columns (then of 8): max and sum start at row 0; each
// later row v updates max = v > max ? v : max (VMAXPS with v as the first
// source returns the second on a tie or a NaN, like the scalar loop) and
// sum += v; the sum is scaled once.
TEXT ·poolAVX2(SB), NOSPLIT, $0-52
	MOVQ x+0(FP), SI
	MOVQ stride+8(FP), R8
	SHLQ $2, R8              // row stride in bytes
	MOVQ n+16(FP), R10
	MOVQ cols+24(FP), R11    // columns left
	MOVQ mx+32(FP), DI
	MOVQ mean+40(FP), DX
	VBROADCASTSS scale+48(FP), Y15

block32:
	CMPQ R11, $32
	JLT  block8
	VMOVUPS 0(SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS 96(SI), Y3
	VMOVAPS Y0, Y4
	VMOVAPS Y1, Y5
	VMOVAPS Y2, Y6
	VMOVAPS Y3, Y7
	MOVQ SI, AX
	MOVQ R10, CX
	DECQ CX
	JZ   store32

loop32:
	ADDQ    R8, AX
	VMOVUPS 0(AX), Y8
	VMOVUPS 32(AX), Y9
	VMOVUPS 64(AX), Y10
	VMOVUPS 96(AX), Y11
	VMAXPS  Y0, Y8, Y0
	VMAXPS  Y1, Y9, Y1
	VMAXPS  Y2, Y10, Y2
	VMAXPS  Y3, Y11, Y3
	VADDPS  Y8, Y4, Y4
	VADDPS  Y9, Y5, Y5
	VADDPS  Y10, Y6, Y6
	VADDPS  Y11, Y7, Y7
	DECQ    CX
	JNZ     loop32

store32:
	VMULPS  Y15, Y4, Y4
	VMULPS  Y15, Y5, Y5
	VMULPS  Y15, Y6, Y6
	VMULPS  Y15, Y7, Y7
	VMOVUPS Y0, 0(DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	VMOVUPS Y4, 0(DX)
	VMOVUPS Y5, 32(DX)
	VMOVUPS Y6, 64(DX)
	VMOVUPS Y7, 96(DX)
	ADDQ    $128, SI
	ADDQ    $128, DI
	ADDQ    $128, DX
	SUBQ    $32, R11
	JMP     block32

block8:
	CMPQ R11, $8
	JLT  done
	VMOVUPS 0(SI), Y0
	VMOVAPS Y0, Y4
	MOVQ SI, AX
	MOVQ R10, CX
	DECQ CX
	JZ   store8

loop8:
	ADDQ    R8, AX
	VMOVUPS 0(AX), Y8
	VMAXPS  Y0, Y8, Y0
	VADDPS  Y8, Y4, Y4
	DECQ    CX
	JNZ     loop8

store8:
	VMULPS  Y15, Y4, Y4
	VMOVUPS Y0, 0(DI)
	VMOVUPS Y4, 0(DX)
	ADDQ    $32, SI
	ADDQ    $32, DI
	ADDQ    $32, DX
	SUBQ    $8, R11
	JMP     block8

done:
	VZEROUPPER
	RET
