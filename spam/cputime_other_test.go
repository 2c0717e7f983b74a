//go:build !unix

package spam_test

// cpuSeconds returns 0 where the process's CPU time is not measured.
func cpuSeconds() float64 { return 0 }
