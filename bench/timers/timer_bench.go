// The Go side of timer_bench.cpp (same workloads and output).
// Run: go run bench/timers/timer_bench.go [-bench=yield|yield2|sleeps|all] [-n=N]
package main

import (
	"flag"
	"fmt"
	"runtime"
	"sort"
	"sync"
	"time"
)

func benchYield(n int, goroutines int) {
	var wg sync.WaitGroup
	t0 := time.Now()
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n; i++ {
				runtime.Gosched()
			}
		}()
	}
	wg.Wait()
	ns := float64(time.Since(t0).Nanoseconds())
	suffix := ""
	if goroutines > 1 {
		suffix = "2"
	}
	fmt.Printf("yield%s: %d yields x %d goroutines: %.1f ns/yield\n",
		suffix, n, goroutines, ns/float64(n*goroutines))
}

func benchSleeps(n int) {
	late := make([]time.Duration, n)
	gate := make(chan struct{})
	gate2 := make(chan struct{})
	var measured sync.WaitGroup
	var started, done sync.WaitGroup
	var deadline time.Time
	for i := 0; i < n; i++ {
		started.Add(1)
		done.Add(1)
		measured.Add(1)
		go func(i int) {
			defer done.Done()
			started.Done()
			<-gate
			time.Sleep(time.Until(deadline))
			late[i] = time.Since(deadline)
			measured.Done()
			<-gate2 // exit is not timed (as in timer_bench.cpp)
		}(i)
	}
	started.Wait()
	deadline = time.Now().Add(time.Second)
	close(gate)
	measured.Wait()
	close(gate2)
	done.Wait()
	sort.Slice(late, func(a, b int) bool { return late[a] < late[b] })
	us := func(k int) float64 { return float64(late[k].Nanoseconds()) / 1e3 }
	fmt.Printf("sleeps: %d sleeps, one deadline: lateness median %.0f us, "+
		"p99 %.0f us, worst %.0f us\n", n, us(n/2), us(n*99/100), us(n-1))
}

func main() {
	which := flag.String("bench", "all", "yield|yield2|sleeps|all")
	n := flag.Int("n", 0, "iterations (yield) or sleepers (sleeps)")
	flag.Parse()
	if *which == "yield" || *which == "all" {
		k := *n
		if k == 0 {
			k = 1000000
		}
		benchYield(k, 1)
	}
	if *which == "yield2" || *which == "all" {
		k := *n
		if k == 0 {
			k = 1000000
		}
		benchYield(k, 2)
	}
	if *which == "sleeps" || *which == "all" {
		k := *n
		if k == 0 {
			k = 100000
		}
		benchSleeps(k)
	}
}
