/*
 * Interrupt entry stubs and the AP entry path for 64-bit event guests.
 *
 * One 16-byte stub per vector (kit_vector_stubs + 16 * vector): vectors
 * without a CPU error code push a zero first so every frame looks the same,
 * then the vector, then the common path saves the caller-saved registers
 * and calls kit_trap(frame). 5 CPU words + error + vector + 9 registers =
 * 16 words, so the stack is 16-byte aligned at the call.
 */
    .section .text, "ax"
    .code64
    .p2align 4
    .globl kit_vector_stubs
kit_vector_stubs:
    .set vec, 0
    .rept 256
    .p2align 4
    .if vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 || vec == 29 || vec == 30
    .else
    pushq $0
    .endif
    pushq $vec
    jmp kit_trap_common
    .set vec, vec + 1
    .endr

kit_trap_common:
    pushq %rax
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    cld
    movq %rsp, %rdi
    call kit_trap
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rax
    addq $16, %rsp              /* vector and error code */
    iretq

/*
 * APs start here from VCPUOP_initialise with the 64-bit vcpu_hvm_context
 * kit_vcpu_context() fills: long mode, the BSP's CR3, RSP = the AP's stack,
 * RDI = vCPU id, and segment caches Xen sets up itself (selectors 0). Load
 * the kit's GDT and real selectors so iretq can reload CS, then go to C.
 */
    .globl kit_ap_entry
kit_ap_entry:
    lgdt kit_ap_gdt_desc(%rip)
    pushq $0x08
    leaq 1f(%rip), %rax
    pushq %rax
    lretq
1:  movl $0x10, %eax
    movl %eax, %ds
    movl %eax, %es
    movl %eax, %ss
    movl %eax, %fs
    movl %eax, %gs
    call kit_ap_main
2:  hlt
    jmp 2b

    .section .rodata
    .p2align 3
kit_ap_gdt:
    .quad 0
    .quad 0x00af9a000000ffff    /* 0x08: 64-bit code, DPL0 */
    .quad 0x00cf92000000ffff    /* 0x10: flat data */
kit_ap_gdt_end:
    .p2align 3
kit_ap_gdt_desc:
    .word kit_ap_gdt_end - kit_ap_gdt - 1
    .quad kit_ap_gdt

/* AP stacks (8 KiB per vCPU id, 128 ids): after __bss_end in guest.ld, so
 * the entry code does not spend emulated time zeroing them. */
    .section .kitstack, "aw", @nobits
    .p2align 12
    .globl kit_ap_stacks
kit_ap_stacks:
    .skip 128 * 8192
