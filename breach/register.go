package breach

import (
	"context"
	"strconv"
	"time"

	"github.com/gdprkit/gdprkit"
)

// Register answers "show me your breach register and when you notified"
// in one value: every breach of the account with its deadline, when each
// audience was notified, what is still outstanding, and the verification
// of the history the register is built from.
type Register struct {
	// Account is the register's account.
	Account gdprkit.AccountID `json:"account"`
	// GeneratedAt is when the register was produced.
	GeneratedAt time.Time `json:"generated_at"`
	// Breaches are the entries, most recent awareness first.
	Breaches []RegisterEntry `json:"breaches"`
	// Verification is the result of checking the history and the stored
	// state against it; when it is not OK the entries above may not be
	// what was recorded.
	Verification Verification `json:"verification"`
}

// RegisterEntry is one breach of the register.
type RegisterEntry struct {
	// Breach is the breach as stored.
	Breach Breach `json:"breach"`
	// Late reports a notification of the authority after the deadline
	// (or, not notified yet, a deadline already passed).
	Late bool `json:"late"`
	// Authority summarises the notices to the authority.
	Authority NoticeSummary `json:"authority"`
	// DPO summarises the notices to the DPO.
	DPO NoticeSummary `json:"dpo"`
	// Subjects summarises the notices to the affected subjects.
	Subjects NoticeSummary `json:"subjects"`
	// Outstanding lists what is still to do, in words ("authority not
	// notified", "high risk: 3 subjects not yet told").
	Outstanding []string `json:"outstanding,omitempty"`
}

// NoticeSummary counts one audience's notices of a breach.
type NoticeSummary struct {
	// Requested counts the notices queued.
	Requested int `json:"requested"`
	// Sent counts those sent.
	Sent int `json:"sent"`
	// Failed counts those given up on.
	Failed int `json:"failed"`
	// Pending counts those still to send (being sent included).
	Pending int `json:"pending"`
	// FirstSentAt is when the first was sent.
	FirstSentAt time.Time `json:"first_sent_at,omitzero"`
	// LastSentAt is when the last was sent.
	LastSentAt time.Time `json:"last_sent_at,omitzero"`
	// References are the notifier's references of the sent notices, for
	// the authority and the DPO (left out for subjects).
	References []string `json:"references,omitempty"`
}

func (ns *NoticeSummary) add(n Notice, refs bool) {
	ns.Requested++
	switch n.State {
	case NoticeSent:
		ns.Sent++
		if ns.FirstSentAt.IsZero() || n.SentAt.Before(ns.FirstSentAt) {
			ns.FirstSentAt = n.SentAt
		}
		if n.SentAt.After(ns.LastSentAt) {
			ns.LastSentAt = n.SentAt
		}
		if refs && n.Reference != "" {
			ns.References = append(ns.References, n.Reference)
		}
	case NoticeFailed:
		ns.Failed++
	default:
		ns.Pending++
	}
}

// Register returns the account's breach register with the verification of
// its history, in one call. A history that does not verify is reported in
// Verification, not as an error; errors are the store's.
func (s *Service) Register(ctx context.Context, account gdprkit.AccountID) (Register, error) {
	if err := account.Validate(); err != nil {
		return Register{}, err
	}
	now := s.now()
	v, bs, err := s.verify(ctx, account)
	if err != nil {
		return Register{}, err
	}
	if bs == nil {
		// The check stopped at a break: list what is stored anyway.
		if bs, err = s.store.Breaches(ctx, account); err != nil {
			return Register{}, err
		}
	}
	r := Register{Account: account, GeneratedAt: now, Verification: v, Breaches: make([]RegisterEntry, 0, len(bs))}
	for _, b := range bs {
		ns, err := s.store.Notices(ctx, account, b.ID)
		if err != nil {
			return Register{}, err
		}
		e := RegisterEntry{Breach: b, Late: b.Late(now)}
		for _, n := range ns {
			switch n.To {
			case ToAuthority:
				e.Authority.add(n, true)
			case ToDPO:
				e.DPO.add(n, true)
			case ToSubject:
				e.Subjects.add(n, false)
			}
		}
		if b.State != StateClosed {
			if b.AuthorityNotifiedAt.IsZero() {
				if now.After(b.Deadline) {
					e.Outstanding = append(e.Outstanding, "authority not notified; the deadline passed at "+b.Deadline.Format(time.RFC3339))
				} else {
					e.Outstanding = append(e.Outstanding, "authority not notified; deadline "+b.Deadline.Format(time.RFC3339))
				}
			}
			if b.HighRisk && int64(e.Subjects.Sent) < b.SubjectsFound {
				e.Outstanding = append(e.Outstanding, "high risk: "+strconv.FormatInt(b.SubjectsFound-int64(e.Subjects.Sent), 10)+" affected subjects not yet told")
			}
		}
		r.Breaches = append(r.Breaches, e)
	}
	return r, nil
}

// History returns the account's history entries, oldest first: all of them
// when id is "", else those about breach id. It does not verify them (see
// Verify and Register).
func (s *Service) History(ctx context.Context, account gdprkit.AccountID, id string) ([]Entry, error) {
	if err := account.Validate(); err != nil {
		return nil, err
	}
	var out []Entry
	const page = 500
	for after := int64(0); ; {
		es, err := s.store.History(ctx, account, after, page)
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			if id == "" || e.Breach == id {
				out = append(out, e)
			}
		}
		if len(es) < page {
			return out, nil
		}
		after = es[len(es)-1].Seq
	}
}
