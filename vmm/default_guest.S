/* The demo guest `xenkvm run` boots when no kernel is given. */
	.section .rodata
	.balign 16
	.global default_guest_start, default_guest_end
default_guest_start:
	.incbin GUEST_ELF
default_guest_end:
	.section .note.GNU-stack,"",@progbits
