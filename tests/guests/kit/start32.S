/*
 * PVH entry for 32-bit guests. Xen's PVH ABI enters here in 32-bit protected
 * mode, paging off, flat segments, EBX = physical address of hvm_start_info,
 * no stack. 32-bit guests stay flat with paging off (32-bit paging
 * triple-faults on the PVM host), so physical == virtual everywhere.
 */
#include <xen/elfnote.h>

    /* The PHYS32_ENTRY note: a 4-byte descriptor in the ELF32 image (the
     * 64-bit image uses 8 bytes, so the loader sees both sizes). */
    .pushsection .note.Xen, "a", @note
    .p2align 2
    .long 2f - 1f               /* namesz */
    .long 4f - 3f               /* descsz */
    .long XEN_ELFNOTE_PHYS32_ENTRY
1:  .asciz "Xen"
2:  .p2align 2
3:  .long pvh_start32
4:  .p2align 2
    .popsection

    .section .text.entry, "ax"
    .code32
    .globl pvh_start32
pvh_start32:
    cli
    cld
    /* The loader should zero .bss, but the guest must not depend on it. */
    xorl %eax, %eax
    movl $__bss_start, %edi
    movl $__bss_end, %ecx
    subl %edi, %ecx
    shrl $2, %ecx
    rep stosl
    movl $kit_stack_top, %esp
    pushl %ebx                  /* kit_start(start_info physical address) */
    call kit_start
1:  hlt
    jmp 1b

    .section .bss
    .p2align 4
kit_stack:
    .skip 16384
kit_stack_top:
