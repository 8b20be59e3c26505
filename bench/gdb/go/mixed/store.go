package main

import "sync"

// Store counts updates per shard; update takes the store's lock.
type Store struct {
	mu     sync.Mutex
	counts [64]int64 // guarded by mu
}

func (s *Store) update(key int, wg *sync.WaitGroup) {
	s.mu.Lock() // parks: the bench holds mu
	s.counts[key%len(s.counts)]++
	s.mu.Unlock()
	wg.Done()
}

// hold and release take and drop the lock from outside (the bench holds it
// while it measures, so every writer waits in update).
func (s *Store) hold()    { s.mu.Lock() }
func (s *Store) release() { s.mu.Unlock() }

func (s *Store) total() (t int64) {
	for _, c := range s.counts {
		t += c
	}
	return t
}
