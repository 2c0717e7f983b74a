package consent

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"

	"github.com/gdprkit/gdprkit"
)

// Decision is one grant or withdrawal to record.
type Decision struct {
	// Subject is whose decision it is. Required.
	Subject gdprkit.SubjectID
	// Purpose is the key of the purpose decided on. Required.
	Purpose string
	// PolicyVersion is the version the subject saw; 0 means the current one.
	PolicyVersion int
	// Source says where the decision was captured. Required.
	Source Source
	// IP is the client address, if known (zones are stripped,
	// IPv4-mapped addresses unmapped).
	IP netip.Addr
	// UserAgent is the client's User-Agent, if known.
	UserAgent string
	// Wording is the exact checkbox or button text; default: the purpose's Label.
	Wording string
	// RecordedBy is who captured it: the subject themself, an agent, an
	// importer. Default: "subject".
	RecordedBy gdprkit.ActorID
}

// Grant records consent. It is one call, like Withdraw. Bad input (empty
// subject, unknown purpose, a policy version that does not exist, oversized
// evidence) returns an error and records nothing.
func (s *Service) Grant(ctx context.Context, account gdprkit.AccountID, d Decision) (Record, error) {
	rs, err := s.Record(ctx, account, []Decision{d}, Grant)
	if err != nil {
		return Record{}, err
	}
	return rs[0], nil
}

// Withdraw records a withdrawal. It takes the same Decision as Grant
// (GDPR Art. 7(3): withdrawing is as easy as giving consent).
func (s *Service) Withdraw(ctx context.Context, account gdprkit.AccountID, d Decision) (Record, error) {
	rs, err := s.Record(ctx, account, []Decision{d}, Withdraw)
	if err != nil {
		return Record{}, err
	}
	return rs[0], nil
}

// Record appends one record per decision, all with the same action, in one
// atomic step: either every decision is recorded or none is.
func (s *Service) Record(ctx context.Context, account gdprkit.AccountID, ds []Decision, action Action) ([]Record, error) {
	if err := account.Validate(); err != nil {
		return nil, err
	}
	if action != Grant && action != Withdraw {
		return nil, fmt.Errorf("%w: unknown action %q", gdprkit.ErrInvalid, action)
	}
	if len(ds) == 0 || len(ds) > 100 {
		return nil, fmt.Errorf("%w: record 1 to 100 decisions at once, not %d", gdprkit.ErrInvalid, len(ds))
	}
	now := s.clock.Now()
	drafts := make([]Record, 0, len(ds))
	for i := range ds {
		r, err := s.draft(ctx, account, &ds[i], action)
		if err != nil {
			return nil, err
		}
		r.At = now
		drafts = append(drafts, r)
	}
	out, err := s.store.Append(ctx, account, drafts, func(head ChainHead, r *Record) error {
		return seal(account, head, r)
	})
	if err != nil {
		return nil, fmt.Errorf("consent: record %s: %w", action, err)
	}
	typ := gdprkit.EventType("consent.granted")
	if action == Withdraw {
		typ = "consent.withdrawn"
	}
	for _, r := range out {
		s.emit(ctx, account, typ, r.RecordedBy, r.SubjectPS, map[string]string{
			"purpose": r.Purpose, "version": strconv.Itoa(r.PolicyVersion), "source": string(r.Source), "seq": strconv.FormatInt(r.Seq, 10)})
	}
	return out, nil
}

func (s *Service) draft(ctx context.Context, account gdprkit.AccountID, d *Decision, action Action) (Record, error) {
	if err := d.Subject.Validate(); err != nil {
		return Record{}, err
	}
	if err := validPurposeKey(d.Purpose); err != nil {
		return Record{}, err
	}
	if d.PolicyVersion < 0 {
		return Record{}, fmt.Errorf("%w: negative policy version", gdprkit.ErrInvalid)
	}
	if d.Source == "" {
		return Record{}, fmt.Errorf("%w: empty source", gdprkit.ErrInvalid)
	}
	if err := validText("source", string(d.Source), 32, true); err != nil {
		return Record{}, err
	}
	if err := validText("user agent", d.UserAgent, MaxUserAgent, false); err != nil {
		return Record{}, err
	}
	if err := validText("wording", d.Wording, MaxWording, false); err != nil {
		return Record{}, err
	}
	by := d.RecordedBy
	if by == "" {
		by = "subject"
	}
	if err := by.Validate(); err != nil {
		return Record{}, err
	}
	pu, err := s.store.Purpose(ctx, account, d.Purpose)
	if err != nil {
		return Record{}, fmt.Errorf("consent: unknown purpose %q: %w", d.Purpose, err)
	}
	version := d.PolicyVersion
	if version == 0 {
		version = pu.CurrentVersion
	}
	if version == 0 {
		return Record{}, fmt.Errorf("consent: purpose %q has no published policy: %w", d.Purpose, gdprkit.ErrNotFound)
	}
	pol, err := s.store.Policy(ctx, account, d.Purpose, version)
	if err != nil {
		return Record{}, fmt.Errorf("consent: purpose %q has no policy version %d: %w", d.Purpose, version, err)
	}
	wording := d.Wording
	if wording == "" {
		wording = pu.Label
	}
	ev := Evidence{UserAgent: d.UserAgent, Wording: wording}
	if d.IP.IsValid() {
		ev.IP = d.IP.WithZone("").Unmap().String()
	}
	r := Record{
		ID:            gdprkit.NewID(),
		Subject:       d.Subject,
		SubjectPS:     s.ps.Subject(account, d.Subject),
		Purpose:       d.Purpose,
		PolicyVersion: version,
		PolicyHash:    pol.TextHash,
		Action:        action,
		Source:        d.Source,
		Evidence:      ev,
		RecordedBy:    by,
	}
	commit(&r)
	return r, nil
}

// Check answers whether subject's consent to purpose is in force, in one
// indexed lookup whatever the length of the subject's history. It answers
// from the subject's latest record itself, which it verifies first (that
// its content matches its hash, which binds the action, policy version and
// time, and that it is the subject's record for the purpose): a record or
// state entry edited in storage gives an error wrapping ErrChainBroken,
// never a grant. Only Verify can tell that the state points to an older
// record of the same subject and purpose. An unknown purpose returns an
// error wrapping gdprkit.ErrNotFound.
func (s *Service) Check(ctx context.Context, account gdprkit.AccountID, subject gdprkit.SubjectID, purpose string) (Status, error) {
	if err := account.Validate(); err != nil {
		return StatusNeverGiven, err
	}
	if err := subject.Validate(); err != nil {
		return StatusNeverGiven, err
	}
	if err := validPurposeKey(purpose); err != nil {
		return StatusNeverGiven, err
	}
	ps := s.ps.Subject(account, subject)
	l, err := s.store.Lookup(ctx, account, ps, purpose)
	if err != nil {
		return StatusNeverGiven, fmt.Errorf("consent: check %q: %w", purpose, err)
	}
	if l.Found {
		r := &l.Record
		if r.Seq != l.Seq || r.SubjectPS != ps || r.Purpose != purpose {
			return StatusNeverGiven, fmt.Errorf("consent: check %q: %w: the current state points to record %d, which is not the subject's record for the purpose",
				purpose, ErrChainBroken, l.Seq)
		}
		if !hashMatches(account, r) {
			return StatusNeverGiven, fmt.Errorf("consent: check %q: %w: record %d does not match its hash", purpose, ErrChainBroken, r.Seq)
		}
	}
	return status(l, s.clock), nil
}

func status(l Lookup, clock gdprkit.Clock) Status {
	switch r := &l.Record; {
	case !l.Found:
		return StatusNeverGiven
	case r.Action == Withdraw:
		return StatusWithdrawn
	case r.PolicyVersion < l.Purpose.MaterialVersion:
		return StatusNeedsReconsent
	case l.Purpose.Lifetime > 0 && clock.Now().Sub(r.At) >= l.Purpose.Lifetime:
		return StatusExpired
	}
	return StatusGranted
}

// History returns every record of subject, oldest first. After
// Pseudonymize it still finds them, by pseudonym.
func (s *Service) History(ctx context.Context, account gdprkit.AccountID, subject gdprkit.SubjectID) ([]Record, error) {
	if err := account.Validate(); err != nil {
		return nil, err
	}
	if err := subject.Validate(); err != nil {
		return nil, err
	}
	return s.store.SubjectRecords(ctx, account, s.ps.Subject(account, subject))
}
