package authn_test

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/gdprkit/gdprkit/authn"
	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/store/memstore"
)

// benchService is a Service at the default (production) KDF parameters
// whose throttle never gets in the way of a benchmark.
func benchService(b *testing.B, users int) (*authn.Service, *fakeclock.Clock) {
	b.Helper()
	keys, _ := authn.NewKeyRing("k1", map[string][]byte{"k1": authn.NewKey()})
	clock := fakeclock.New(t0)
	svc, err := authn.New(authn.Config{Store: memstore.New().Authn(), Keys: keys, Clock: clock,
		Throttle: authn.ThrottlePolicy{Free: 1 << 30, SourceBudget: 1 << 30, GlobalBudget: 1 << 30}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	u, err := svc.HashPassword(ctx, password)
	if err != nil {
		b.Fatal(err)
	}
	for i := range users {
		if err := svc.ImportUser(ctx, acct, fmt.Sprint("u", i), fmt.Sprint("user", i), u); err != nil {
			b.Fatal(err)
		}
	}
	return svc, clock
}

// BenchmarkConcurrentLogins200 runs 200 password logins at once (each for
// its own user, at default argon2id parameters) per iteration and reports
// the peak heap in use while they run. The KDF semaphore
// (Config.MaxConcurrentHashes, default GOMAXPROCS) keeps at most that many
// 19 MiB argon2 buffers live at once, whatever the number of logins.
func BenchmarkConcurrentLogins200(b *testing.B) {
	const n = 200
	svc, _ := benchService(b, n)
	ctx := context.Background()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak atomic.Uint64
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Go(func() {
		t := time.NewTicker(200 * time.Microsecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				metrics.Read(sample)
				if v := sample[0].Value.Uint64(); v > peak.Load() {
					peak.Store(v)
				}
			}
		}
	})
	runtime.GC()
	metrics.Read(sample)
	base := sample[0].Value.Uint64()
	b.ReportAllocs()
	for b.Loop() {
		var wg sync.WaitGroup
		var failed atomic.Int32
		for i := range n {
			wg.Go(func() {
				_, err := svc.Login(ctx, authn.LoginRequest{Account: acct, Username: fmt.Sprint("user", i), Password: password})
				if err != nil {
					failed.Add(1)
				}
			})
		}
		wg.Wait()
		if failed.Load() != 0 {
			b.Fatalf("%d of %d logins failed", failed.Load(), n)
		}
	}
	close(stop)
	sampler.Wait()
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(peak.Load()-min(base, peak.Load()))/(1<<20), "peak-over-idle-MiB")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/login")
}

// BenchmarkUnknownUserVsWrongPassword rotates a login of an unknown user, a
// wrong-password login of a user on argon2id and one of a user still on a
// bcrypt hash (cost 10, as imported from an older system), at default
// argon2id parameters, and reports the median time of each and the largest
// ratio between them (goal: within 1.2×), so response time does not reveal
// which accounts exist (issue #15 finding 6: the bcrypt user took 2.1–2.7×
// as long as an unknown one).
func BenchmarkUnknownUserVsWrongPassword(b *testing.B) {
	svc, clock := benchService(b, 1)
	ctx := context.Background()
	legacy, err := bcrypt.GenerateFromPassword([]byte(password), 10)
	if err != nil {
		b.Fatal(err)
	}
	if err := svc.ImportUser(ctx, acct, "legacy", "legacy", string(legacy)); err != nil {
		b.Fatal(err)
	}
	login := func(user string) time.Duration {
		start := time.Now()
		_, err := svc.Login(ctx, authn.LoginRequest{Account: acct, Username: user, Password: "not the right password"})
		d := time.Since(start)
		if err == nil {
			b.Fatal("wrong password accepted")
		}
		clock.Advance(time.Hour)
		return d
	}
	login("nobody") // computes the dummy hashes once
	kinds := []string{"nobody", "user0", "legacy"}
	times := map[string][]time.Duration{}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		// Rotate the order, so garbage collections (argon2 allocates
		// 19 MiB a call) do not fall on one kind more than the others.
		for j := range kinds {
			k := kinds[(i+j)%len(kinds)]
			times[k] = append(times[k], login(k))
		}
		if i%50 == 49 { // stay below the hard lock of 100 failures
			_ = svc.Unlock(ctx, acct, "u0")
			_ = svc.Unlock(ctx, acct, "legacy")
		}
	}
	median := func(d []time.Duration) float64 {
		slices.Sort(d)
		return float64(d[len(d)/2].Microseconds()) / 1000
	}
	mu, mw, ml := median(times["nobody"]), median(times["user0"]), median(times["legacy"])
	b.ReportMetric(mu, "unknown-median-ms")
	b.ReportMetric(mw, "wrong-median-ms")
	b.ReportMetric(ml, "bcrypt-wrong-median-ms")
	b.ReportMetric(max(mu, mw, ml)/min(mu, mw, ml), "ratio")
}
