/* elf-at-region.c - a program linked at the kernel region's address
 * (-Wl,-Ttext-segment=0x7ffffffbc000, no libc): hostk must refuse to run it,
 * with status 126 as the first program and SIGKILL for a later exec.  If it
 * ever runs it says so and exits 42. */
void _start(void);

void _start(void)
{
	static const char msg[] = "elf-at-region: ran\n";
	long r;

	__asm__ volatile("syscall" : "=a"(r) : "0"(1L), "D"(1L), "S"(msg), "d"(sizeof msg - 1) : "rcx", "r11", "memory");
	__asm__ volatile("syscall" : "=a"(r) : "0"(60L), "D"(42L) : "rcx", "r11", "memory");
	for (;;)
		;
}
