package retention

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/gdprkit/gdprkit"
)

// Dispositions returns the proof of disposition of the account: its
// committed batches whose commit time is in [from, to) (a zero bound is
// open), oldest first, each naming the rule, run, exact cutoff and the IDs
// of the records it removed. Batches are kept for
// ScheduleConfig.DispositionTTL; they hold identifiers only.
func (s *Schedules) Dispositions(ctx context.Context, account gdprkit.AccountID, from, to time.Time) ([]Batch, error) {
	if err := account.Validate(); err != nil {
		return nil, err
	}
	return s.store.Batches(ctx, account, from, to, 0)
}

// DispositionRecord is one line of ExportDispositions: one batch.
type DispositionRecord struct {
	// Batch, Account, Run, Rule, Target, Cutoff, Committed, Recovered and
	// Held are the batch's (see Batch); Removed the IDs it removed.
	Batch     string            `json:"batch"`
	Account   gdprkit.AccountID `json:"account"`
	Run       string            `json:"run"`
	Rule      string            `json:"rule"`
	Target    TargetKind        `json:"target"`
	Cutoff    time.Time         `json:"cutoff"`
	Committed time.Time         `json:"committed"`
	Recovered bool              `json:"recovered,omitempty"`
	Held      int64             `json:"held"`
	Removed   []string          `json:"removed"`
}

// ExportDispositions writes the account's proof of disposition in [from,
// to) to w as JSON lines (one DispositionRecord per batch), for an auditor,
// and returns how many records they name. It reads the batches in pages,
// so memory stays flat however many there are.
func (s *Schedules) ExportDispositions(ctx context.Context, account gdprkit.AccountID, w io.Writer, from, to time.Time) (int64, error) {
	if err := account.Validate(); err != nil {
		return 0, err
	}
	enc := json.NewEncoder(w)
	var n int64
	const page = 500
	seen := map[string]bool{} // batches already written at time from
	for {
		bs, err := s.store.Batches(ctx, account, from, to, page)
		if err != nil {
			return n, fmt.Errorf("retention: export dispositions: %w", err)
		}
		fresh := 0
		for _, b := range bs {
			if seen[b.ID] {
				continue
			}
			fresh++
			rec := DispositionRecord{Batch: b.ID, Account: b.Account, Run: b.Run, Rule: b.Rule, Target: b.Target, Cutoff: b.Cutoff,
				Committed: b.Committed, Recovered: b.Recovered, Held: b.Held, Removed: b.Removed}
			if rec.Removed == nil {
				rec.Removed = []string{}
			}
			if err := enc.Encode(rec); err != nil {
				return n, err
			}
			n += int64(len(b.Removed))
		}
		if len(bs) < page {
			return n, nil
		}
		// Go on from the last commit time, inclusive, skipping the batches
		// of that instant already written.
		last := bs[len(bs)-1].Committed
		if fresh == 0 {
			last = last.Add(time.Microsecond) // a whole page in one microsecond: move on
		}
		if !last.Equal(from) {
			seen = map[string]bool{}
		}
		for _, b := range bs {
			if b.Committed.Equal(last) {
				seen[b.ID] = true
			}
		}
		from = last
	}
}
