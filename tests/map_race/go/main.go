// The Go 1.19 twin of ../race.cpp: the same shapes (threads are not a Go
// thing: "thread" runs goroutines too), for the side-by-side detection rates.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
)

func main() {
	if len(os.Args) < 6 {
		fmt.Fprintln(os.Stderr, "usage: race int|string KEYS WRITERS WORKERS go|thread [insert|mixed]")
		os.Exit(64)
	}
	str := os.Args[1] == "string"
	keys, _ := strconv.Atoi(os.Args[2])
	writers, _ := strconv.Atoi(os.Args[3])
	workers, _ := strconv.Atoi(os.Args[4])
	mixed := len(os.Args) > 6 && os.Args[6] == "mixed"
	runtime.GOMAXPROCS(workers)
	var ready int32
	var wg sync.WaitGroup
	wg.Add(writers)
	si := map[string]int{}
	ii := map[int64]int{}
	for w := 0; w < writers; w++ {
		go func(id int) {
			defer wg.Done()
			atomic.AddInt32(&ready, 1)
			for atomic.LoadInt32(&ready) < int32(writers) {
			}
			base := id * keys
			for i := 0; i < keys; i++ {
				if str {
					si["key-"+strconv.Itoa(base+i)+"-padding-past-sso"] = i
				} else {
					ii[int64(base+i)] = i
				}
			}
			if mixed {
				for i := 0; i < keys; i += 2 {
					if str {
						delete(si, "key-"+strconv.Itoa(base+i)+"-padding-past-sso")
					} else {
						delete(ii, int64(base+i))
					}
				}
			}
		}(w)
	}
	wg.Wait()
	fmt.Println("len", len(si)+len(ii))
}
