// many.go — the Go side of bench/gdb: N goroutines blocked in a channel
// receive, stopped at main.ready under Delve (the anchor: Delve's
// `goroutines` over 100k goroutines).
package main

import (
	"os"
	"strconv"
	"sync"
	"time"
)

//go:noinline
func ready() { println("ready") }

func worker(ch chan int, wg *sync.WaitGroup) {
	<-ch
	wg.Done()
}

func main() {
	n := 100000
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	ch := make(chan int)
	var wg sync.WaitGroup
	wg.Add(n)
	for i := 0; i < n; i++ {
		go worker(ch, &wg)
	}
	time.Sleep(500 * time.Millisecond)
	ready()
	close(ch)
	wg.Wait()
}
