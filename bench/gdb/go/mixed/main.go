// mixed — the Go side of bench/gdb's mixed shape (../../mixed.cpp): N
// goroutines parked in five different user functions, one fifth each:
//
//	consume          a function, in a range over a channel (chan receive)
//	(*Store).update  a method in another file, on a held Mutex (sync.Mutex.Lock)
//	startWatchers    a closure capturing a channel (chan receive)
//	relay[T]         a generic function, in a select over two channels (select)
//	startTasks       a func value, on a WaitGroup (sync.WaitGroup.Wait)
//
// Stopped at main.ready under Delve, then everything is released.
package main

import (
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

type Job struct {
	ID   int
	Cost int64
}

//go:noinline
func ready() { println("ready") }

func consume(jobs chan Job, cost *int64, wg *sync.WaitGroup) {
	for j := range jobs { // parks: chan receive
		atomic.AddInt64(cost, j.Cost)
	}
	wg.Done()
}

func relay[T any](in, out chan T, quit chan bool, wg *sync.WaitGroup) {
	defer wg.Done()
	for {
		select { // parks
		case v, ok := <-in:
			if !ok {
				return
			}
			out <- v
		case <-quit:
			return
		}
	}
}

func startWatchers(n int, done chan int, wg *sync.WaitGroup) {
	for i := 0; i < n; i++ {
		go func() {
			<-done // parks: chan receive
			wg.Done()
		}()
	}
}

func startTasks(n int, gate, wg *sync.WaitGroup) {
	task := func() {
		gate.Wait() // parks: sync.WaitGroup.Wait
		wg.Done()
	}
	for i := 0; i < n; i++ {
		go task()
	}
}

func main() {
	n := 100000
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	each := n / 5
	jobs := make(chan Job)
	in, out := make(chan Job), make(chan Job, 1)
	quit := make(chan bool)
	done := make(chan int)
	var store Store
	var gate, wg sync.WaitGroup
	var consumed int64
	gate.Add(1)
	store.hold()
	wg.Add(n)
	for i := 0; i < n-4*each; i++ {
		go consume(jobs, &consumed, &wg)
	}
	for i := 0; i < each; i++ {
		go store.update(i, &wg)
	}
	startWatchers(each, done, &wg)
	for i := 0; i < each; i++ {
		go relay(in, out, quit, &wg)
	}
	startTasks(each, &gate, &wg)
	time.Sleep(500 * time.Millisecond)
	ready()
	close(jobs)
	store.release()
	close(done)
	close(quit)
	gate.Done()
	wg.Wait()
	println("consumed", consumed, "stored", store.total())
}
