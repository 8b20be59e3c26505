// The Go 1.19 side of the map differential suite (tests/go_diff): prints
// what goro's twin (twin.cpp) prints, line for line. `exact` lines must be
// equal; `stat NAME n mean sd` lines are compared with a z-test
// (test_go_diff.py). hmap is read through unsafe, as the runtime lays it out.
package main

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"unsafe"
)

type hmap struct {
	count      int
	flags      uint8
	B          uint8
	noverflow  uint16
	hash0      uint32
	buckets    unsafe.Pointer
	oldbuckets unsafe.Pointer
	nevacuate  uintptr
	extra      unsafe.Pointer
}

const sameSizeGrow = 8

func hdr[K comparable, V any](m map[K]V) *hmap { return *(**hmap)(unsafe.Pointer(&m)) }

func stat(name string, xs []float64) {
	n := float64(len(xs))
	mean, ss := 0.0, 0.0
	for _, x := range xs {
		mean += x
	}
	if n > 0 {
		mean /= n
	}
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	sd := 0.0
	if n > 1 {
		sd = math.Sqrt(ss / (n - 1))
	}
	fmt.Printf("stat %s %d %.4f %.4f\n", name, len(xs), mean, sd)
}

func main() {
	runs := 200
	if len(os.Args) > 1 {
		runs, _ = strconv.Atoi(os.Args[1])
	}
	// Growth starts of sequential inserts: deterministic (count and B only).
	{
		m := map[int64]int64{}
		for i := int64(0); i < 20000; i++ {
			growing := hdr(m) != nil && hdr(m).oldbuckets != nil
			m[i] = i
			h := hdr(m)
			if !growing && h.oldbuckets != nil {
				fmt.Printf("exact growth-start count=%d B=%d same=%v\n", h.count, h.B, h.flags&sameSizeGrow != 0)
			}
		}
	}
	for _, hint := range []int{0, 1, 8, 9, 13, 14, 52, 53, 100, 1000, 6656, 6657, 100000} {
		m := make(map[int64]int64, hint)
		fmt.Printf("exact hint=%d B=%d\n", hint, hdr(m).B)
	}
	// The write at which the growth to B completes (statistics of the hash).
	for _, B := range []uint8{3, 7, 9} {
		var at []float64
		for r := 0; r < runs; r++ {
			m := map[int64]int64{}
			for i := int64(0); ; i++ {
				m[i] = i
				if h := hdr(m); h.B == B && h.oldbuckets == nil {
					at = append(at, float64(h.count))
					break
				}
			}
		}
		stat(fmt.Sprintf("growth-complete-B=%d", B), at)
	}
	{
		var at []float64
		for r := 0; r < runs; r++ {
			m := map[string]int64{}
			for i := int64(0); ; i++ {
				m["key"+strconv.FormatInt(i, 10)] = i
				if h := hdr(m); h.B == 7 && h.oldbuckets == nil {
					at = append(at, float64(h.count))
					break
				}
			}
		}
		stat("growth-complete-string-keys-B=7", at)
	}
	// Insert/delete churn with L live keys (FIFO): same-size growths per 10k
	// steps, and the step of the first one.
	for _, L := range []int64{50, 400} {
		var count, first []float64
		for r := 0; r < runs; r++ {
			m := map[int64]int64{}
			for i := int64(0); i < L; i++ {
				m[i] = i
			}
			n, f := 0, -1
			for step := int64(1); step <= 10000; step++ {
				growing := hdr(m).oldbuckets != nil
				delete(m, step-1)
				m[L+step-1] = step
				h := hdr(m)
				if !growing && h.oldbuckets != nil && h.flags&sameSizeGrow != 0 {
					n++
					if f < 0 {
						f = int(step)
					}
				}
			}
			count = append(count, float64(n))
			if f >= 0 {
				first = append(first, float64(f))
			}
		}
		stat(fmt.Sprintf("churn-live=%d same-size-growths", L), count)
		stat(fmt.Sprintf("churn-live=%d first-same-size-growth", L), first)
	}
	// Writing while ranging.
	for _, n := range []int64{1, 8, 9, 52, 53, 100, 415, 416, 3000} {
		m := map[int64]int64{}
		for i := int64(0); i < n; i++ {
			m[i] = i
		}
		seen := map[int64]int{}
		for k, v := range m {
			seen[k]++
			m[k] = v + 1000
		}
		ok := len(seen) == int(n)
		for k := int64(0); k < n; k++ {
			ok = ok && seen[k] == 1 && m[k] == k+1000
		}
		fmt.Printf("exact range-update n=%d ok=%v len=%d\n", n, ok, len(m))
		seen = map[int64]int{}
		next := int64(1) << 40
		for k := range m {
			seen[k]++
			for j := 0; j < 3; j++ {
				m[next] = -1
				next++
			}
		}
		ok = true
		for k := int64(0); k < n; k++ {
			ok = ok && seen[k] == 1
		}
		for _, c := range seen {
			ok = ok && c == 1
		}
		fmt.Printf("exact range-insert n=%d each-once=%v\n", n, ok)
		for k := range m {
			if k < n && k%2 == 0 {
				delete(m, k+1)
			}
		}
		ok = true
		for k := int64(0); k < n; k++ {
			_, in := m[k]
			ok = ok && in == (k%2 == 0)
		}
		fmt.Printf("exact range-delete n=%d odd-gone=%v\n", n, ok)
	}
	// Float keys.
	{
		m := map[float64]int{}
		m[0.0] = 1
		m[math.Copysign(0, -1)] = 2
		for k, v := range m {
			fmt.Printf("exact float64-zero len=%d signbit=%v value=%d\n", len(m), math.Signbit(k), v)
		}
		f := map[float32]int{}
		f[0.0] = 1
		f[float32(math.Copysign(0, -1))] = 2
		for k, v := range f {
			fmt.Printf("exact float32-zero len=%d signbit=%v value=%d\n", len(f), math.Signbit(float64(k)), v)
		}
		var ovf []float64
		for r := 0; r < runs; r++ {
			m := map[float64]int{}
			for i := 0; i < 1000; i++ {
				m[math.NaN()] = i
			}
			_, found := m[math.NaN()]
			if r == 0 {
				fmt.Printf("exact nan len=%d found=%v B=%d\n", len(m), found, hdr(m).B)
			}
			ovf = append(ovf, float64(hdr(m).noverflow))
		}
		stat("nan-1000-noverflow", ovf)
	}
	// Clearing by deleting every key while ranging (Go 1.19's mapclear idiom).
	{
		m := map[int64]int64{}
		for i := int64(0); i < 5000; i++ {
			m[i] = i
		}
		for k := range m {
			delete(m, k)
		}
		before := len(m)
		for i := int64(0); i < 100; i++ {
			m[i] = i
		}
		fmt.Printf("exact clear len=%d then=%d\n", before, len(m))
	}
}
