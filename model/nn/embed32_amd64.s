//go:build amd64 && !purego

#include "textflag.h"

// func embedBagAVX2(table *float32, dim int, ids *int32, nids int, dst *float32, cols int, scale float32)
//
// For each block of 64 columns (then of 8), the bag's rows are added into
// vector registers in bag order and the sum is scaled and stored once.
TEXT ·embedBagAVX2(SB), NOSPLIT, $0-52
	MOVQ table+0(FP), SI
	MOVQ dim+8(FP), R8
	SHLQ $2, R8              // row stride in bytes
	MOVQ ids+16(FP), R9
	MOVQ nids+24(FP), R10
	MOVQ dst+32(FP), DI
	MOVQ cols+40(FP), R11    // columns left
	VBROADCASTSS scale+48(FP), Y15
	XORQ R12, R12            // byte offset of the current block

block64:
	CMPQ R11, $64
	JLT  block8
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	XORQ CX, CX

loop64:
	MOVLQSX (R9)(CX*4), AX
	IMULQ   R8, AX
	ADDQ    SI, AX
	ADDQ    R12, AX
	VADDPS  0(AX), Y0, Y0
	VADDPS  32(AX), Y1, Y1
	VADDPS  64(AX), Y2, Y2
	VADDPS  96(AX), Y3, Y3
	VADDPS  128(AX), Y4, Y4
	VADDPS  160(AX), Y5, Y5
	VADDPS  192(AX), Y6, Y6
	VADDPS  224(AX), Y7, Y7
	INCQ    CX
	CMPQ    CX, R10
	JLT     loop64

	VMULPS  Y15, Y0, Y0
	VMULPS  Y15, Y1, Y1
	VMULPS  Y15, Y2, Y2
	VMULPS  Y15, Y3, Y3
	VMULPS  Y15, Y4, Y4
	VMULPS  Y15, Y5, Y5
	VMULPS  Y15, Y6, Y6
	VMULPS  Y15, Y7, Y7
	VMOVUPS Y0, 0(DI)(R12*1)
	VMOVUPS Y1, 32(DI)(R12*1)
	VMOVUPS Y2, 64(DI)(R12*1)
	VMOVUPS Y3, 96(DI)(R12*1)
	VMOVUPS Y4, 128(DI)(R12*1)
	VMOVUPS Y5, 160(DI)(R12*1)
	VMOVUPS Y6, 192(DI)(R12*1)
	VMOVUPS Y7, 224(DI)(R12*1)
	ADDQ    $256, R12
	SUBQ    $64, R11
	JMP     block64

block8:
	CMPQ R11, $8
	JLT  done
	VXORPS Y0, Y0, Y0
	XORQ CX, CX

loop8:
	MOVLQSX (R9)(CX*4), AX
	IMULQ   R8, AX
	ADDQ    SI, AX
	ADDQ    R12, AX
	VADDPS  0(AX), Y0, Y0
	INCQ    CX
	CMPQ    CX, R10
	JLT     loop8

	VMULPS  Y15, Y0, Y0
	VMOVUPS Y0, 0(DI)(R12*1)
	ADDQ    $32, R12
	SUBQ    $8, R11
	JMP     block8

done:
	VZEROUPPER
	RET
