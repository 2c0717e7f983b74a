package fakeclock_test

import (
	"fmt"
	"time"

	"github.com/gdprkit/gdprkit/fakeclock"
)

func Example() {
	c := fakeclock.New(time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC))
	c.Advance(14 * 24 * time.Hour) // a whole trial period, instantly
	fmt.Println(c.Now().Format(time.RFC3339))
	// Output: 2026-01-15T09:00:00Z
}
