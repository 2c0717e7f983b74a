package erasure

import "time"

// AddMonths returns t moved by n calendar months, keeping the time of day.
// When the target month is shorter than t's day of month, the result falls
// on that month's last day: January 31 plus one month is February 28 (29 in
// a leap year), never March 2 or 3 as time.AddDate would give.
func AddMonths(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(n), 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
	last := first.AddDate(0, 1, -1).Day()
	if d > last {
		d = last
	}
	return time.Date(first.Year(), first.Month(), d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
}

// DueDate is when a request received at receivedAt must be answered:
// one calendar month later (GDPR Art. 12(3)), plus extension months.
func DueDate(receivedAt time.Time, extensionMonths int) time.Time {
	return AddMonths(receivedAt, 1+extensionMonths)
}
