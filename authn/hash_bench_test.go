package authn

import (
	"context"
	"testing"
)

// BenchmarkArgon2idDefault is the cost of one argon2id hash at the default
// parameters (m=19456 KiB, t=2, p=1): the work of every password login.
func BenchmarkArgon2idDefault(b *testing.B) {
	h := newHasher(DefaultArgon2, Limits{MaxMemory: 65536, MaxTime: 10, MaxThreads: 8, MaxBcryptCost: 14}, 1)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.hash(ctx, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}
