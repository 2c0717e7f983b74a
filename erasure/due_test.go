package erasure_test

import (
	"testing"
	"time"

	"github.com/gdprkit/gdprkit/erasure"
)

// FuzzAddMonths checks the calendar rule for any date and month count:
// the result is in the right month, keeps the time of day, and keeps the
// day unless that month is shorter, in which case it is its last day.
func FuzzAddMonths(f *testing.F) {
	for _, c := range []struct {
		unix int64
		n    int
	}{{time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC).Unix(), 1}, {time.Date(2028, 1, 31, 0, 0, 0, 0, time.UTC).Unix(), 1}, {0, 3}, {1e9, -1}} {
		f.Add(c.unix, c.n)
	}
	f.Fuzz(func(t *testing.T, unix int64, n int) {
		if unix < -1e11 || unix > 1e11 || n < -1200 || n > 1200 {
			return
		}
		in := time.Unix(unix, 0).UTC()
		got := erasure.AddMonths(in, n)
		wantMonth := (int(in.Month()) - 1 + n) % 12
		if wantMonth < 0 {
			wantMonth += 12
		}
		if int(got.Month())-1 != wantMonth {
			t.Fatalf("%v + %d months = %v: wrong month", in, n, got)
		}
		if got.Hour() != in.Hour() || got.Minute() != in.Minute() || got.Second() != in.Second() {
			t.Fatalf("%v + %d months = %v: time of day changed", in, n, got)
		}
		last := time.Date(got.Year(), got.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day()
		switch {
		case got.Day() == in.Day():
		case got.Day() < in.Day() && got.Day() == last:
		default:
			t.Fatalf("%v + %d months = %v: wrong day", in, n, got)
		}
	})
}
