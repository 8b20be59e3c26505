// asm_amd64.S — goroutine context switch and entry trampoline (x86-64 SysV).
//
// A parked goroutine's registers live in its G record (struct gobuf in
// goro/runtime2.h), not on its stack, so a debugger or core-file reader can
// resume unwinding from them without executing anything:
//
//   gobuf:  0 sp   8 pc   16 bp   24 rbx   32 r12   40 r13   48 r14   56 r15
//
// The saved pc is the return address into the function that called
// goro_gogo_switch and the saved sp is the stack pointer just after that
// return, i.e. exactly the machine state "as if goro_gogo_switch had
// returned": ordinary DWARF CFI of the caller then unwinds the rest.
//
// Only the callee-saved registers of the SysV ABI are saved: everything else
// is dead across a call. The x87 control word and MXCSR are not switched
// (goroutines share the worker's floating-point environment; Boost.Context
// saves them, marl does not). Rejected: ucontext (swapcontext makes a
// sigprocmask system call per switch, ~1 us), and pushing registers on the
// parked stack (a debugger would need to know the push order and the stack
// address; the G record is where tools already look).
//
// Measured (bench/sched, ping-pong on one worker): see docs/scheduler.md.

        .text

// void goro_gogo_switch(gobuf* from, const gobuf* to)
//   Saves the caller's context in *from and resumes *to.
        .globl  goro_gogo_switch
        .type   goro_gogo_switch, @function
        .p2align 4
goro_gogo_switch:
        .cfi_startproc
        movq    (%rsp), %rax            // return address -> from->pc
        leaq    8(%rsp), %rcx           // sp after the return -> from->sp
        movq    %rcx, 0(%rdi)
        movq    %rax, 8(%rdi)
        movq    %rbp, 16(%rdi)
        movq    %rbx, 24(%rdi)
        movq    %r12, 32(%rdi)
        movq    %r13, 40(%rdi)
        movq    %r14, 48(%rdi)
        movq    %r15, 56(%rdi)

        movq    0(%rsi), %rsp
        movq    16(%rsi), %rbp
        movq    24(%rsi), %rbx
        movq    32(%rsi), %r12
        movq    40(%rsi), %r13
        movq    48(%rsi), %r14
        movq    56(%rsi), %r15
        jmpq    *8(%rsi)
        .cfi_endproc
        .size   goro_gogo_switch, .-goro_gogo_switch

// goro_goexit_entry: where a new goroutine starts. newproc sets
//   sp = 16-byte aligned top of the stack, pc = goro_goexit_entry,
//   bp = 0, r12 = the G, r13 = the C++ entry (void (*)(G*)).
// The CFI marks the return address as undefined, so unwinders (GDB, LLDB,
// libgcc, libbacktrace) stop here cleanly: this is the outermost frame of
// every goroutine, just below its start function. The entry never returns:
// goroutines end by switching away (goexit).
        .globl  goro_goexit_entry
        .type   goro_goexit_entry, @function
        .p2align 4
goro_goexit_entry:
        .cfi_startproc
        .cfi_undefined rip
        xorl    %ebp, %ebp
        movq    %r12, %rdi
        callq   *%r13
        ud2
        .cfi_endproc
        .size   goro_goexit_entry, .-goro_goexit_entry

        .section .note.GNU-stack,"",@progbits
