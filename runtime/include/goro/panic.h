// goro/panic.h — Go's panics as C++ exceptions.
//
// Go panics on misuse that a program could in principle recover from:
// "send on closed channel", "close of closed channel", "close of nil
// channel", "sync: negative WaitGroup counter", "sync: unlock of unlocked
// mutex", ... goro throws goro::Panic with Go's message verbatim. Catching
// it is Go's recover(). Left uncaught, it ends the program as an
// unrecovered Go panic does: `panic: <message>`, the goroutine dump (with
// the stack at the throw: the runtime arranges for std::terminate to run
// before unwinding), exit status 2. Any other exception escaping a
// goroutine is treated the same way.
//
// Go's *fatal errors* (throw: "all goroutines are asleep - deadlock!",
// "concurrent map writes", "stack overflow") cannot be caught, in Go or here.
#pragma once

#include <stdexcept>

namespace goro {

// Panic is thrown for Go's run-time panics; what() is Go's message.
class Panic : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

}  // namespace goro
