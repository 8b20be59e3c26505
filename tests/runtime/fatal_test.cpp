// fatal_test.cpp — what a dying program prints, exactly: Go's deadlock
// report, the SIGQUIT dump, unrecovered panics, stack overflow, blocking
// outside a goroutine, and concurrent map misuse naming goroutines.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstring>
#include <string>

#include "goro/goro.h"

namespace {

using namespace std::chrono_literals;

class Fatal : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

[[gnu::noinline]] void block_on(goro::Chan<int> ch) { ch.recv(); }

TEST_F(Fatal, AllGoroutinesAsleepIsADeadlock) {
  EXPECT_EXIT(goro::run(goro::Config{2, 0},
                        [] {
                          auto ch = goro::make_chan<int>();
                          goro::go(block_on, ch);
                          block_on(ch);
                        }),
              ::testing::ExitedWithCode(2),
              "^fatal error: all goroutines are asleep - deadlock!\n\n"
              "goroutine 1 \\[chan receive\\]:\n"
              "[^\n]*block_on\\(\\.\\.\\.\\)\n\t[^\n]*fatal_test.cpp:[0-9]+ \\+0x[0-9a-f]+\n"
              "[^\n]*\\(\\.\\.\\.\\)\n\t[^\n]*fatal_test.cpp:[0-9]+( \\+0x[0-9a-f]+)?\n"
              "\n"
              "goroutine [0-9]+ \\[chan receive\\]:\n"
              "[^\n]*block_on\\(\\.\\.\\.\\)\n\t[^\n]*fatal_test.cpp:[0-9]+ \\+0x[0-9a-f]+\n"
              "created by [^\n]*AllGoroutinesAsleepIsADeadlock[^\n]* in goroutine 1\n"
              "\t[^\n]*fatal_test.cpp:[0-9]+ \\+0x[0-9a-f]+\n$");
}

TEST_F(Fatal, NoDeadlockReportWhileATimerIsPending) {
  // Go's checkdead is silent while a timer can still wake someone.
  EXPECT_EXIT(
      {
        goro::run(goro::Config{1, 0}, [] { goro::sleep(30ms); });
        std::exit(0);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST_F(Fatal, EveryWaitReasonAppearsInTheDump) {
  EXPECT_EXIT(goro::run(goro::Config{1, 0},
                        [] {
                          goro::Chan<int> nil;
                          auto ch = goro::make_chan<int>();
                          goro::go([nil]() mutable { nil.send(1); });
                          goro::go([ch]() mutable { ch.send(1); });
                          goro::go([ch]() mutable {
                            goro::Chan<int> other = goro::make_chan<int>();
                            int v;
                            goro::select(goro::recv(other, v), goro::send(ch, 2));
                          });
                          goro::go([] { goro::select(); });
                          goro::go([] {
                            goro::set_name("named");
                            goro::Chan<int>().recv();
                          });
                          goro::yield();
                          block_on(goro::make_chan<int>());
                        }),
              ::testing::ExitedWithCode(2),
              "all goroutines are asleep - deadlock!.*"
              "\\[chan send \\(nil chan\\)\\]:.*"
              "\\[chan send\\]:.*"
              "\\[select\\]:.*"
              "\\[select \\(no cases\\)\\]:.*"
              "goroutine [0-9]+ \"named\" \\[chan receive \\(nil chan\\)\\]:");
}

TEST_F(Fatal, SigquitDumpsEveryGoroutineAndExits2) {
  EXPECT_EXIT(goro::run(goro::Config{2, 0},
                        [] {
                          auto ch = goro::make_chan<int>();
                          for (int i = 0; i < 3; i++) goro::go(block_on, ch);
                          goro::sleep(10ms);
                          raise(SIGQUIT);
                          goro::sleep(10s);
                        }),
              ::testing::ExitedWithCode(2),
              "^SIGQUIT: quit\nPC=0x[0-9a-f]+ m=[0-9]+ sigcode=[-0-9]+\n\n"
              "goroutine 1 \\[running\\]:\n.*"
              "goroutine [0-9]+ \\[chan receive\\]:\n[^\n]*block_on\\(\\.\\.\\.\\).*"
              "goroutine [0-9]+ \\[chan receive\\]:\n[^\n]*block_on\\(\\.\\.\\.\\).*"
              "goroutine [0-9]+ \\[chan receive\\]:\n[^\n]*block_on\\(\\.\\.\\.\\).*");
}

[[gnu::noinline]] void send_on_closed() {
  auto ch = goro::make_chan<int>(1);
  ch.close();
  ch.send(1);
}

TEST_F(Fatal, UnrecoveredPanicShowsTheThrowingStack) {
  EXPECT_EXIT(goro::run(goro::Config{2, 0},
                        [] {
                          auto done = goro::make_chan<int>();
                          goro::go([done]() mutable {
                            send_on_closed();
                            done.send(1);
                          });
                          done.recv();
                        }),
              ::testing::ExitedWithCode(2),
              "^panic: send on closed channel\n\n"
              "goroutine [0-9]+ \\[running\\]:\n"
              "[^\n]*send_on_closed\\(\\.\\.\\.\\)\n\t[^\n]*fatal_test.cpp:[0-9]+.*"
              "created by [^\n]* in goroutine 1\n.*"
              "goroutine 1 \\[chan receive\\]:");
}

TEST_F(Fatal, AnyEscapingExceptionIsAPanic) {
  EXPECT_EXIT(goro::run([] { throw std::runtime_error("boom"); }), ::testing::ExitedWithCode(2),
              "^panic: boom \\[C\\+\\+ exception std::runtime_error\\]\n\ngoroutine [0-9]+ "
              "\\[running\\]:");
}

volatile int g_limit = 1 << 30;  // opaque to the compiler: no "infinite recursion" warning

[[gnu::noinline]] int recurse(int n) {
  volatile char pad[512];
  pad[0] = static_cast<char>(n);
  return n >= g_limit ? 0 : recurse(n + 1) + pad[0];
}

TEST_F(Fatal, StackOverflowNamesTheGoroutine) {
  EXPECT_EXIT(goro::run(goro::Config{1, 65536},
                        [] {
                          auto done = goro::make_chan<int>();
                          goro::go([done]() mutable {
                            goro::set_name("deep");
                            done.send(recurse(0));
                          });
                          done.recv();
                        }),
              ::testing::ExitedWithCode(2),
              "runtime: goroutine [0-9]+ \\(deep\\) stack exceeds 65536-byte limit\n"
              "runtime: sp=0x[0-9a-f]+ stack=\\[0x[0-9a-f]+, 0x[0-9a-f]+\\]\n"
              "fatal error: stack overflow\n\n"
              "goroutine [0-9]+ \"deep\" \\[running\\]:");
}

[[gnu::noinline]] int bounded_recurse(int n) {
  char pad[512];
  std::memset(pad, n, sizeof pad);  // a frame that really uses its memory
  asm volatile("" : : "r"(pad) : "memory");
  return n == 0 ? 0 : bounded_recurse(n - 1) + pad[n % 512];
}

TEST_F(Fatal, OverflowOfAnUnguardedStackIsCaughtAtTheNextSwitch) {
  // Beyond the guard-page budget (here: none at all) a stack has only its
  // canary: an overflow that returns is reported when the goroutine next
  // leaves the CPU.
  EXPECT_EXIT(
      {
        setenv("GORO_STACK_GUARDS", "0", 1);
        goro::run(goro::Config{1, 65536}, [] {
          auto done = goro::make_chan<int>();
          // A parked neighbour takes the slab's first stack, so the one that
          // overflows has mapped memory below it (the first would fault).
          goro::go([done]() mutable { done.recv(); });
          goro::yield();
          goro::go([done]() mutable {
            goro::set_name("unguarded");
            int r = bounded_recurse(160);  // ~90 KiB of frames on a 64 KiB stack
            goro::yield();
            done.send(r);
          });
          done.recv();
        });
      },
      ::testing::ExitedWithCode(2),
      "runtime: goroutine [0-9]+ \\(unguarded\\) stack exceeds 65280-byte limit\n"
      "runtime: sp=0x[0-9a-f]+ stack=\\[0x[0-9a-f]+, 0x[0-9a-f]+\\]\n"
      "runtime: \\(unguarded stack: the overflow was found at a switch; the stack below it may be "
      "damaged\\)\n"
      "fatal error: stack overflow");
}

TEST_F(Fatal, BlockingOutsideAGoroutineIsFatal) {
  EXPECT_EXIT(
      {
        auto ch = goro::make_chan<int>();
        ch.recv();
      },
      ::testing::ExitedWithCode(2),
      "fatal error: goro: blocking operation \\(chan receive\\) called from a thread that is not "
      "a goroutine");
}

TEST_F(Fatal, MapMisuseNamesBothGoroutinesAndWhereTheyWereCreated) {
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
  GTEST_SKIP() << "two goroutines racing on a map on purpose: TSan reports the race itself first";
#endif
#endif
  // Two goroutines on two workers write one map: the detector fires.
  EXPECT_EXIT(goro::run(goro::Config{2, 0},
                        [] {
                          auto m = std::make_shared<goro::Map<int, int>>();
                          auto done = goro::make_chan<int>(2);
                          goro::go([m, done]() mutable {
                            for (int i = 0; i < (1 << 30); i++) (*m)[i & 1023] = i;  // until caught
                            done.send(1);
                          });
                          goro::go([m, done]() mutable {
                            for (int i = 0; i < (1 << 30); i++) (*m)[i & 1023] = i;  // until caught
                            done.send(1);
                          });
                          done.recv();
                          done.recv();
                        }),
              ::testing::ExitedWithCode(2),
              "^fatal error: concurrent map writes\n\n"
              "map 0x[0-9a-f]+ goro::Map<int, int> len=[0-9]+ B=[0-9]+\n"
              "\tthis map write: goroutine [0-9]+ \\(created by [^\n]* in goroutine 1 at "
              "[^\n]*fatal_test.cpp:[0-9]+\\)\n"
              "\tconflicting map write: goroutine [0-9]+ \\(created by [^\n]* in goroutine 1 at "
              "[^\n]*fatal_test.cpp:[0-9]+\\).*"
              "goroutine [0-9]+ \\[running\\]:");
}

}  // namespace
