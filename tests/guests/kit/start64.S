/*
 * PVH entry for 64-bit guests. Entered like the 32-bit guests (32-bit flat,
 * paging off, EBX = hvm_start_info). Long mode with 4-level paging works on
 * the PVM host while 32-bit paging does not, so: identity-map the first
 * 4 GiB with 2 MiB pages, enable PAE + EFER.LME + PG and far-jump to 64-bit
 * code. Physical == virtual below 4 GiB, so hypercall buffers need no
 * translation on the guest side.
 */
#include <xen/elfnote.h>

#define CR0_PG      0x80000000
#define CR4_PAE     0x00000020
#define MSR_EFER    0xc0000080
#define EFER_LME    0x00000100
#define PTE_P_RW    0x003
#define PDE_2M      0x083       /* present, writable, page size */

    .pushsection .note.Xen, "a", @note
    .p2align 2
    .long 2f - 1f               /* namesz */
    .long 4f - 3f               /* descsz: 8 bytes in the ELF64 image */
    .long XEN_ELFNOTE_PHYS32_ENTRY
1:  .asciz "Xen"
2:  .p2align 2
3:  .quad pvh_start32
4:  .p2align 2
    .popsection

    .section .text.entry, "ax"
    .code32
    .globl pvh_start32
pvh_start32:
    cli
    cld
    /* Zero .bss ourselves (page tables and stack live there). */
    xorl %eax, %eax
    movl $__bss_start, %edi
    movl $__bss_end, %ecx
    subl %edi, %ecx
    shrl $2, %ecx
    rep stosl

    /* PML4[0] -> PDPT, PDPT[0..3] -> the four page directories. */
    movl $kit_pdpt + PTE_P_RW, kit_pml4
    movl $kit_pd + PTE_P_RW, kit_pdpt
    movl $kit_pd + 0x1000 + PTE_P_RW, kit_pdpt + 8
    movl $kit_pd + 0x2000 + PTE_P_RW, kit_pdpt + 16
    movl $kit_pd + 0x3000 + PTE_P_RW, kit_pdpt + 24
    /* 2048 consecutive 2 MiB entries cover 0..4 GiB (high dwords are 0). */
    movl $kit_pd, %edi
    movl $PDE_2M, %eax
    movl $2048, %ecx
1:  movl %eax, (%edi)
    addl $0x200000, %eax
    addl $8, %edi
    decl %ecx
    jnz 1b

    lgdt kit_gdt_desc
    movl %cr4, %eax
    orl $CR4_PAE, %eax
    movl %eax, %cr4
    movl $kit_pml4, %eax
    movl %eax, %cr3
    movl $MSR_EFER, %ecx
    rdmsr
    orl $EFER_LME, %eax
    wrmsr
    movl %cr0, %eax
    orl $CR0_PG, %eax
    movl %eax, %cr0
    ljmp $0x08, $entry64

    .code64
entry64:
    movl $0x10, %eax
    movl %eax, %ds
    movl %eax, %es
    movl %eax, %ss
    movl %eax, %fs
    movl %eax, %gs
    movq $kit_stack_top, %rsp
    movl %ebx, %edi             /* kit_start(start_info physical address) */
    call kit_start
2:  hlt
    jmp 2b

    .section .rodata
    .p2align 3
kit_gdt:
    .quad 0
    .quad 0x00af9a000000ffff    /* 0x08: 64-bit code, DPL0 */
    .quad 0x00cf92000000ffff    /* 0x10: flat data */
kit_gdt_end:
kit_gdt_desc:
    .word kit_gdt_end - kit_gdt - 1
    .long kit_gdt

    .section .bss.page, "aw", @nobits
    .p2align 12
kit_pml4:
    .skip 4096
kit_pdpt:
    .skip 4096
kit_pd:
    .skip 4 * 4096

    .section .bss
    .p2align 4
kit_stack:
    .skip 16384
kit_stack_top:
