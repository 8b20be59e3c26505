// Go 1.19 side of the goroscope hash-map benchmark (bench/map).
//
// Measures the built-in map[K]int64 for K in {int64, string} at
// n = 1000, 100000, 1000000 with five workloads: insert (fresh map, no size
// hint), lookup_hit, lookup_miss, erase and iterate. Each result is printed
// as one JSON line {"name": "map/<op>/<key>/go/<n>", "ns_per_op": x}, where
// x is nanoseconds per single map operation (per element for iterate).
//
// Keys are generated exactly like the C++ side (bench/map/*.cpp) so both
// sides hash the same data: splitmix64 seeded with 42 gives the n present
// keys, seeded with 4242 the n miss keys; an int64 key is the raw output,
// a string key is fmt.Sprintf("key-%016x", output) (20 bytes, too long for
// libstdc++'s small-string buffer). Lookups and erases visit the present
// keys in a Fisher-Yates order driven by splitmix64 seeded with 7, so the
// access pattern is random rather than insertion order.
//
// testing.Benchmark picks b.N (about 1 s of timed work per benchmark,
// -benchtime to change; -quick drops n=1000000 and defaults to 300ms);
// runtime.GC() runs before each benchmark so garbage from the previous one
// is not charged to it.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Sinks keep results alive so the compiler cannot drop the work.
var (
	sinkInt int64
	sinkMap any
)

type splitmix64 struct{ x uint64 }

func (s *splitmix64) next() uint64 {
	s.x += 0x9E3779B97F4A7C15
	z := s.x
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

func raw(seed uint64, n int) []uint64 {
	r := splitmix64{seed}
	out := make([]uint64, n)
	for i := range out {
		out[i] = r.next()
	}
	return out
}

func intKey(x uint64) int64  { return int64(x) }
func strKey(x uint64) string { return fmt.Sprintf("key-%016x", x) }

// mapKeys converts raw splitmix64 outputs into keys of type K.
func mapKeys[K any](xs []uint64, conv func(uint64) K) []K {
	out := make([]K, len(xs))
	for i, x := range xs {
		out[i] = conv(x)
	}
	return out
}

// shuffled returns keys permuted by Fisher-Yates driven by splitmix64(7).
func shuffled[K any](keys []K) []K {
	out := append([]K(nil), keys...)
	r := splitmix64{7}
	for i := len(out) - 1; i > 0; i-- {
		j := r.next() % uint64(i+1)
		out[i], out[j] = out[j], out[i]
	}
	return out
}

func build[K comparable](keys []K) map[K]int64 {
	m := make(map[K]int64)
	for i, k := range keys {
		m[k] = int64(i)
	}
	return m
}

func benchInsert[K comparable](keys []K) func(*testing.B) {
	return func(b *testing.B) {
		for it := 0; it < b.N; it++ {
			sinkMap = build(keys)
		}
	}
}

func benchLookup[K comparable](present, probe []K) func(*testing.B) {
	return func(b *testing.B) {
		m := build(present)
		b.ResetTimer()
		var sum int64
		for it := 0; it < b.N; it++ {
			for _, k := range probe {
				sum += m[k]
			}
		}
		sinkInt = sum
	}
}

func benchErase[K comparable](present, order []K) func(*testing.B) {
	return func(b *testing.B) {
		for it := 0; it < b.N; it++ {
			b.StopTimer()
			m := build(present)
			b.StartTimer()
			for _, k := range order {
				delete(m, k)
			}
			sinkMap = m
		}
	}
}

// Iterate is written per key type so the loop body folds the key in
// without an indirect call, matching what the C++ loop does.
func benchIterateInt(keys []int64) func(*testing.B) {
	return func(b *testing.B) {
		m := build(keys)
		b.ResetTimer()
		var sum int64
		for it := 0; it < b.N; it++ {
			for k, v := range m {
				sum += k ^ v
			}
		}
		sinkInt = sum
	}
}

func benchIterateStr(keys []string) func(*testing.B) {
	return func(b *testing.B) {
		m := build(keys)
		b.ResetTimer()
		var sum int64
		for it := 0; it < b.N; it++ {
			for k, v := range m {
				sum += int64(len(k)) + v
			}
		}
		sinkInt = sum
	}
}

type bench struct {
	name string
	n    int
	fn   func(*testing.B)
}

// suite returns the five workloads for one key type and size.
func suite[K comparable](key string, n int, conv func(uint64) K,
	iterate func([]K) func(*testing.B)) []bench {
	present := mapKeys(raw(42, n), conv)
	miss := mapKeys(raw(4242, n), conv)
	order := shuffled(present)
	name := func(op string) string { return fmt.Sprintf("map/%s/%s/go/%d", op, key, n) }
	return []bench{
		{name("insert"), n, benchInsert(present)},
		{name("lookup_hit"), n, benchLookup(present, order)},
		{name("lookup_miss"), n, benchLookup(present, miss)},
		{name("erase"), n, benchErase(present, order)},
		{name("iterate"), n, iterate(present)},
	}
}

var ops = []string{"insert", "lookup_hit", "lookup_miss", "erase", "iterate"}

func main() {
	filter := flag.String("filter", "", "run only benchmarks whose name contains `SUBSTR`")
	quick := flag.Bool("quick", false, "only n=1000 and n=100000, shorter benchtime (smoke run)")
	benchtime := flag.Duration("benchtime", 0, "timed work per benchmark (default 1s, 300ms with -quick)")
	testing.Init() // registers -test.benchtime, which testing.Benchmark reads
	flag.Parse()
	if *benchtime == 0 {
		*benchtime = time.Second
		if *quick {
			*benchtime = 300 * time.Millisecond
		}
	}
	flag.Set("test.benchtime", benchtime.String())

	sizes := []int{1000, 100000, 1000000}
	if *quick {
		sizes = sizes[:2]
	}
	// wanted reports whether any op for (key, n) passes the filter, so key
	// sets that would be thrown away are never generated.
	wanted := func(key string, n int) bool {
		for _, op := range ops {
			if strings.Contains(fmt.Sprintf("map/%s/%s/go/%d", op, key, n), *filter) {
				return true
			}
		}
		return false
	}

	out := json.NewEncoder(os.Stdout)
	for _, key := range []string{"int64", "string"} {
		for _, n := range sizes {
			if !wanted(key, n) {
				continue
			}
			var bs []bench
			if key == "int64" {
				bs = suite(key, n, intKey, benchIterateInt)
			} else {
				bs = suite(key, n, strKey, benchIterateStr)
			}
			for _, bm := range bs {
				if !strings.Contains(bm.name, *filter) {
					continue
				}
				runtime.GC()
				r := testing.Benchmark(bm.fn)
				if r.N == 0 {
					fmt.Fprintf(os.Stderr, "%s: benchmark failed\n", bm.name)
					os.Exit(1)
				}
				ns := float64(r.T.Nanoseconds()) / float64(r.N) / float64(bm.n)
				out.Encode(map[string]any{"name": bm.name, "ns_per_op": ns})
			}
		}
	}
}
