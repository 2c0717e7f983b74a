//go:build !unix

package main

import "runtime"

// peakRSSMiB approximates peak memory by the memory the Go runtime obtained
// from the system.
func peakRSSMiB() float64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.Sys) / (1 << 20)
}

// cpuSeconds is not measured here: 0.
func cpuSeconds() float64 { return 0 }
