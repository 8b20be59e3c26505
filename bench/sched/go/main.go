// Go 1.19 side of the goroscope scheduler benchmark (bench/sched).
//
// The loops of bench/sched/sched_bench.cpp, statement for statement, with
// goro::go, make_chan, select, Mutex, RWMutex, WaitGroup and yield replaced
// by the go statement, channels, select, sync.Mutex, sync.RWMutex,
// sync.WaitGroup and runtime.Gosched (see sched_bench.cpp's header for what
// each benchmark measures). Each result is one JSON line
// {"name": "sched/<bench>/p<W>/go", "ns_per_op": x}: W is GOMAXPROCS (set
// with runtime.GOMAXPROCS before the benchmark), x nanoseconds per operation
// (testing.Benchmark's ns/op divided by the operations in one b.N iteration).
// switch_raw has no Go counterpart (the runtime's gogo is not callable).
//
// testing.Benchmark picks b.N (-benchtime of timed work per benchmark,
// default 500ms, 100ms with -quick); runtime.GC() runs before each benchmark
// so garbage from the previous one is not charged to it.
//
// -parked N (the only thing run when given): N goroutines on GOMAXPROCS=2
// that each call started.Done() and block receiving from one shared
// unbuffered channel, measured as sched_bench.cpp's --parked does. Memory is
// VmRSS and VmPTE from /proc/self/status (the same counters as the C++
// programs read), before (after a runtime.GC()) and once all have started;
// not runtime.ReadMemStats, which knows only the Go heap and stacks.
// Prints sched/parked_{create,release}/p2/go (ns per goroutine) and
// sched/parked_{rss,pte}/p2/go (bytes per goroutine, "bytes_per_op").
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	spawnBatch = 1000  // goroutines per spawn_exit iteration
	msgBatch   = 10000 // messages per chan_spsc / chan_mpmc iteration
	lockBatch  = 10000 // operations per contended-lock iteration (all goroutines)
	goroutines = 4     // producers, consumers or lockers
	chanCap    = 1024  // buffered channels' capacity
	writeEvery = 100   // rwmutex_readmostly: 1 write per 100 operations
)

// sinkInt keeps results alive so the compiler cannot drop the work.
var sinkInt int64

func benchSpawnExit(b *testing.B) {
	var wg sync.WaitGroup
	for it := 0; it < b.N; it++ {
		for i := 0; i < spawnBatch; i++ {
			wg.Add(1)
			go func() { wg.Done() }()
		}
		wg.Wait()
	}
}

func benchPingPong(b *testing.B) {
	ping, pong := make(chan int), make(chan int)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		for v := range ping {
			pong <- v
		}
		wg.Done()
	}()
	i := 0
	for it := 0; it < b.N; it++ {
		ping <- i
		i++
		sinkInt = int64(<-pong)
	}
	close(ping)
	wg.Wait()
}

func benchChanSPSC(b *testing.B) {
	ch := make(chan int, chanCap)
	var wg sync.WaitGroup
	var sum int64
	for it := 0; it < b.N; it++ {
		wg.Add(1)
		go func() {
			for i := 0; i < msgBatch; i++ {
				ch <- i
			}
			wg.Done()
		}()
		for i := 0; i < msgBatch; i++ {
			sum += int64(<-ch)
		}
		wg.Wait()
	}
	sinkInt = sum
}

func benchChanMPMC(b *testing.B) {
	ch := make(chan int, chanCap)
	var wg sync.WaitGroup
	var sum atomic.Int64
	for it := 0; it < b.N; it++ {
		wg.Add(2 * goroutines)
		for g := 0; g < goroutines; g++ {
			go func() {
				for i := 0; i < msgBatch/goroutines; i++ {
					ch <- i
				}
				wg.Done()
			}()
		}
		for g := 0; g < goroutines; g++ {
			go func() {
				var s int64
				for i := 0; i < msgBatch/goroutines; i++ {
					s += int64(<-ch)
				}
				sum.Add(s)
				wg.Done()
			}()
		}
		wg.Wait()
	}
	sinkInt = sum.Load()
}

func benchSelectReady(b *testing.B) {
	a, c := make(chan int, 1), make(chan int, 1)
	a <- 0
	c <- 1
	v := 0
	for it := 0; it < b.N; it++ {
		select {
		case v = <-a:
			a <- v
		case v = <-c:
			c <- v
		}
	}
	sinkInt = int64(v)
}

func benchSelectClosed(b *testing.B) {
	a, c := make(chan int), make(chan int)
	close(a)
	close(c)
	v, n := 0, 0
	ok := false
	for it := 0; it < b.N; it++ {
		select {
		case v, ok = <-a:
			n += 0
		case v, ok = <-c:
			n += 1
		}
	}
	if ok {
		n++
	}
	sinkInt = int64(n + v)
}

func benchMutexUncontended(b *testing.B) {
	var mu sync.Mutex
	for it := 0; it < b.N; it++ {
		mu.Lock()
		mu.Unlock()
	}
}

func benchMutexContended(b *testing.B) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	var counter int64 // guarded by mu
	for it := 0; it < b.N; it++ {
		wg.Add(goroutines)
		for g := 0; g < goroutines; g++ {
			go func() {
				for i := 0; i < lockBatch/goroutines; i++ {
					mu.Lock()
					counter++
					mu.Unlock()
				}
				wg.Done()
			}()
		}
		wg.Wait()
	}
	sinkInt = counter
}

func benchRWMutexReadMostly(b *testing.B) {
	var rw sync.RWMutex
	var wg sync.WaitGroup
	var counter int64 // guarded by rw
	var seen atomic.Int64
	for it := 0; it < b.N; it++ {
		wg.Add(goroutines)
		for g := 0; g < goroutines; g++ {
			go func() {
				var s int64
				for i := 0; i < lockBatch/goroutines; i++ {
					if i%writeEvery == writeEvery-1 {
						rw.Lock()
						counter++
						rw.Unlock()
					} else {
						rw.RLock()
						s += counter
						rw.RUnlock()
					}
				}
				seen.Add(s)
				wg.Done()
			}()
		}
		wg.Wait()
	}
	sinkInt = seen.Load()
}

func benchYield(b *testing.B) {
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		for !stop.Load() {
			runtime.Gosched()
		}
		wg.Done()
	}()
	for it := 0; it < b.N; it++ {
		runtime.Gosched()
	}
	stop.Store(true)
	wg.Wait()
}

type bench struct {
	name  string  // sched/<bench>/p<procs>/go
	procs int     // GOMAXPROCS
	ops   float64 // operations per b.N iteration
	fn    func(*testing.B)
}

func benches() []bench {
	mk := func(name string, procs int, ops float64, fn func(*testing.B)) bench {
		return bench{fmt.Sprintf("sched/%s/p%d/go", name, procs), procs, ops, fn}
	}
	return []bench{
		mk("spawn_exit", 1, spawnBatch, benchSpawnExit),
		mk("spawn_exit", 2, spawnBatch, benchSpawnExit),
		mk("pingpong", 1, 1, benchPingPong),
		mk("pingpong", 2, 1, benchPingPong),
		mk("chan_spsc", 1, msgBatch, benchChanSPSC),
		mk("chan_spsc", 2, msgBatch, benchChanSPSC),
		mk("chan_mpmc", 2, msgBatch, benchChanMPMC),
		mk("select_ready", 1, 1, benchSelectReady),
		mk("select_closed", 1, 1, benchSelectClosed),
		mk("mutex_uncontended", 1, 1, benchMutexUncontended),
		mk("mutex_contended", 2, lockBatch, benchMutexContended),
		mk("rwmutex_readmostly", 2, lockBatch, benchRWMutexReadMostly),
		mk("yield", 1, 2, benchYield), // per iteration: two Gosched calls
	}
}

// statusKB reads a "Name:   N kB" line of /proc/self/status (-1 if absent).
func statusKB(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, field+":") {
			fs := strings.Fields(line[len(field)+1:])
			if len(fs) > 0 {
				if kb, err := strconv.ParseInt(fs[0], 10, 64); err == nil {
					return kb
				}
			}
		}
	}
	return -1
}

func parked(n int, out *json.Encoder) int {
	runtime.GOMAXPROCS(2)
	ch := make(chan int)
	var started, exited sync.WaitGroup
	runtime.GC()
	rss0, pte0 := statusKB("VmRSS"), statusKB("VmPTE")
	t0 := time.Now()
	started.Add(n)
	exited.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			started.Done()
			<-ch
			exited.Done()
		}()
	}
	started.Wait()
	t1 := time.Now()
	rss1, pte1 := statusKB("VmRSS"), statusKB("VmPTE")
	t2 := time.Now()
	close(ch)
	exited.Wait()
	create, release := t1.Sub(t0), time.Since(t2)

	per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(n) }
	bytes := func(kb0, kb1 int64) float64 { return float64(kb1-kb0) * 1024 / float64(n) }
	out.Encode(map[string]any{"name": "sched/parked_create/p2/go", "ns_per_op": per(create), "n": n})
	out.Encode(map[string]any{"name": "sched/parked_release/p2/go", "ns_per_op": per(release), "n": n})
	out.Encode(map[string]any{"name": "sched/parked_rss/p2/go", "bytes_per_op": bytes(rss0, rss1), "n": n})
	out.Encode(map[string]any{"name": "sched/parked_pte/p2/go", "bytes_per_op": bytes(pte0, pte1), "n": n})
	if rss0 < 0 || rss1 < 0 {
		return 1
	}
	return 0
}

func main() {
	filter := flag.String("filter", "", "run only benchmarks whose name contains `SUBSTR`")
	quick := flag.Bool("quick", false, "shorter benchtime (smoke run)")
	benchtime := flag.Duration("benchtime", 0, "timed work per benchmark (default 500ms, 100ms with -quick)")
	parkedN := flag.Int("parked", 0, "measure `N` parked goroutines instead of running the benchmarks")
	testing.Init() // registers -test.benchtime, which testing.Benchmark reads
	flag.Parse()
	out := json.NewEncoder(os.Stdout)
	if *parkedN > 0 {
		os.Exit(parked(*parkedN, out))
	}
	if *benchtime == 0 {
		*benchtime = 500 * time.Millisecond
		if *quick {
			*benchtime = 100 * time.Millisecond
		}
	}
	flag.Set("test.benchtime", benchtime.String())

	for _, bm := range benches() {
		if !strings.Contains(bm.name, *filter) {
			continue
		}
		runtime.GOMAXPROCS(bm.procs)
		runtime.GC()
		r := testing.Benchmark(bm.fn)
		if r.N == 0 {
			fmt.Fprintf(os.Stderr, "%s: benchmark failed\n", bm.name)
			os.Exit(1)
		}
		ns := float64(r.T.Nanoseconds()) / float64(r.N) / bm.ops
		out.Encode(map[string]any{"name": bm.name, "ns_per_op": ns})
	}
}
