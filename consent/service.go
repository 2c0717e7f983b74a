package consent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"

	"github.com/gdprkit/gdprkit"
)

// Config configures a Service. Pseudonymizer is required; every other zero
// value is a documented default.
type Config struct {
	// Pseudonymizer derives the subject pseudonyms records are indexed by.
	// Required. Keep its key stable: a new key cannot find old records.
	Pseudonymizer *gdprkit.Pseudonymizer
	// Clock supplies record times. Default: gdprkit.SystemClock.
	Clock gdprkit.Clock
	// Audit receives consent.* events. Default: discard.
	Audit gdprkit.AuditSink
	// Logger receives operational messages, never personal data.
	// Default: discard.
	Logger *slog.Logger
}

// Service is the consent API a host calls. It is safe for concurrent use.
type Service struct {
	store  Store
	ps     *gdprkit.Pseudonymizer
	clock  gdprkit.Clock
	audit  gdprkit.AuditSink
	logger *slog.Logger
}

// New returns a Service over s.
func New(s Store, cfg Config) (*Service, error) {
	if s == nil {
		return nil, errors.New("consent: nil Store")
	}
	if cfg.Pseudonymizer == nil {
		return nil, errors.New("consent: Config.Pseudonymizer is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{store: s, ps: cfg.Pseudonymizer, clock: gdprkit.ClockOrSystem(cfg.Clock),
		audit: gdprkit.SinkOrDiscard(cfg.Audit), logger: cfg.Logger}, nil
}

// DefinePurpose creates a purpose. It returns an error wrapping
// gdprkit.ErrInvalid for a bad key or name and gdprkit.ErrConflict when the
// key exists. A purpose needs a published policy before anyone can grant it.
func (s *Service) DefinePurpose(ctx context.Context, account gdprkit.AccountID, p Purpose) (Purpose, error) {
	if err := account.Validate(); err != nil {
		return Purpose{}, err
	}
	if err := validPurposeKey(p.Key); err != nil {
		return Purpose{}, err
	}
	if err := validText("purpose name", p.Name, MaxName, true); err != nil {
		return Purpose{}, err
	}
	if p.Label == "" {
		p.Label = "I agree to " + p.Name + "."
	}
	if err := validText("purpose label", p.Label, MaxWording, true); err != nil {
		return Purpose{}, err
	}
	if err := validText("purpose description", p.Description, MaxDescription, false); err != nil {
		return Purpose{}, err
	}
	if p.Lifetime < 0 {
		return Purpose{}, fmt.Errorf("%w: negative purpose lifetime", gdprkit.ErrInvalid)
	}
	p.CurrentVersion, p.MaterialVersion = 0, 0
	p.CreatedAt = s.clock.Now()
	if err := s.store.CreatePurpose(ctx, account, p); err != nil {
		return Purpose{}, fmt.Errorf("consent: define purpose %q: %w", p.Key, err)
	}
	return p, nil
}

// Purpose returns one purpose.
func (s *Service) Purpose(ctx context.Context, account gdprkit.AccountID, key string) (Purpose, error) {
	if err := account.Validate(); err != nil {
		return Purpose{}, err
	}
	if err := validPurposeKey(key); err != nil {
		return Purpose{}, err
	}
	p, err := s.store.Purpose(ctx, account, key)
	if err != nil {
		return Purpose{}, fmt.Errorf("consent: purpose %q: %w", key, err)
	}
	return p, nil
}

// Purposes lists the account's purposes by key.
func (s *Service) Purposes(ctx context.Context, account gdprkit.AccountID) ([]Purpose, error) {
	if err := account.Validate(); err != nil {
		return nil, err
	}
	return s.store.Purposes(ctx, account)
}

// PublishPolicy publishes text as the next version of purpose's policy. With
// material set, every earlier grant needs re-consent. It returns an error
// wrapping gdprkit.ErrNotFound for an unknown purpose and gdprkit.ErrInvalid
// for empty or oversized text.
func (s *Service) PublishPolicy(ctx context.Context, account gdprkit.AccountID, purpose, text string, material bool, by gdprkit.ActorID) (Policy, error) {
	if err := account.Validate(); err != nil {
		return Policy{}, err
	}
	if err := validPurposeKey(purpose); err != nil {
		return Policy{}, err
	}
	if err := validText("policy text", text, MaxPolicyText, true); err != nil {
		return Policy{}, err
	}
	if err := by.Validate(); err != nil {
		return Policy{}, err
	}
	p := Policy{Purpose: purpose, Text: text, TextHash: textHash(text), Material: material,
		PublishedAt: s.clock.Now(), PublishedBy: by}
	p, err := s.store.PublishPolicy(ctx, account, p)
	if err != nil {
		return Policy{}, fmt.Errorf("consent: publish policy for %q: %w", purpose, err)
	}
	s.emit(ctx, account, "consent.policy_published", by, "", map[string]string{
		"purpose": purpose, "version": strconv.Itoa(p.Version), "material": strconv.FormatBool(material)})
	return p, nil
}

// Policy returns a policy version; version 0 means the current one.
func (s *Service) Policy(ctx context.Context, account gdprkit.AccountID, purpose string, version int) (Policy, error) {
	if err := account.Validate(); err != nil {
		return Policy{}, err
	}
	if err := validPurposeKey(purpose); err != nil {
		return Policy{}, err
	}
	if version < 0 {
		return Policy{}, fmt.Errorf("%w: negative policy version", gdprkit.ErrInvalid)
	}
	if version == 0 {
		pu, err := s.store.Purpose(ctx, account, purpose)
		if err != nil {
			return Policy{}, fmt.Errorf("consent: purpose %q: %w", purpose, err)
		}
		if pu.CurrentVersion == 0 {
			return Policy{}, fmt.Errorf("consent: purpose %q has no published policy: %w", purpose, gdprkit.ErrNotFound)
		}
		version = pu.CurrentVersion
	}
	p, err := s.store.Policy(ctx, account, purpose, version)
	if err != nil {
		return Policy{}, fmt.Errorf("consent: policy %q version %d: %w", purpose, version, err)
	}
	return p, nil
}

// Decision is one grant or withdrawal to record.
type Decision struct {
	Subject gdprkit.SubjectID
	Purpose string
	// PolicyVersion is the version the subject saw; 0 means the current one.
	PolicyVersion int
	Source        Source
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
		Salt:          newSalt(),
	}
	r.SubjectCommit = subjectCommit(r.Salt, r.Subject)
	r.EvidenceCommit = evidenceCommit(r.Salt, r.Evidence)
	return r, nil
}

// Check answers whether subject's consent to purpose is in force, in one
// indexed lookup whatever the length of the subject's history. An unknown
// purpose returns an error wrapping gdprkit.ErrNotFound.
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
	l, err := s.store.Lookup(ctx, account, s.ps.Subject(account, subject), purpose)
	if err != nil {
		return StatusNeverGiven, fmt.Errorf("consent: check %q: %w", purpose, err)
	}
	return status(l, s.clock), nil
}

func status(l Lookup, clock gdprkit.Clock) Status {
	switch {
	case !l.Found:
		return StatusNeverGiven
	case l.Action == Withdraw:
		return StatusWithdrawn
	case l.PolicyVersion < l.Purpose.MaterialVersion:
		return StatusNeedsReconsent
	case l.Purpose.Lifetime > 0 && clock.Now().Sub(l.At) >= l.Purpose.Lifetime:
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

// Pseudonymize removes subject's identifier, IP addresses and user agents
// from all their records, keeping the records, their commitments and the
// chain — the proof that consent existed. Erasure calls it. It is
// idempotent and returns how many records changed.
func (s *Service) Pseudonymize(ctx context.Context, account gdprkit.AccountID, subject gdprkit.SubjectID, by gdprkit.ActorID) (int, error) {
	if err := account.Validate(); err != nil {
		return 0, err
	}
	if err := subject.Validate(); err != nil {
		return 0, err
	}
	ps := s.ps.Subject(account, subject)
	n, err := s.store.Pseudonymize(ctx, account, ps)
	if err != nil {
		return 0, fmt.Errorf("consent: pseudonymize: %w", err)
	}
	s.emit(ctx, account, "consent.pseudonymized", by, ps, map[string]string{"records": strconv.Itoa(n)})
	return n, nil
}

// DeleteAccount removes all of the account's consent data, proof
// included: it is for an account that is being deleted as a whole (see
// package retention), not for one subject (use Pseudonymize). It is
// idempotent and returns how many records it removed.
func (s *Service) DeleteAccount(ctx context.Context, account gdprkit.AccountID, by gdprkit.ActorID) (int, error) {
	if err := account.Validate(); err != nil {
		return 0, err
	}
	n, err := s.store.DeleteAccount(ctx, account)
	if err != nil {
		return 0, fmt.Errorf("consent: delete account: %w", err)
	}
	s.emit(ctx, account, "consent.account_deleted", by, "", map[string]string{"records": strconv.Itoa(n)})
	return n, nil
}

// VerifyResult summarises a successful Verify.
type VerifyResult struct {
	Records int64     `json:"records"`
	Head    ChainHead `json:"head"`
}

// Verify walks the account's whole chain, checking every link, hash and
// (where the values remain) commitment, and that the chain ends at the
// stored head. It returns an error wrapping ErrChainBroken that names the
// first bad record when anything was edited, removed or reordered.
func (s *Service) Verify(ctx context.Context, account gdprkit.AccountID) (VerifyResult, error) {
	if err := account.Validate(); err != nil {
		return VerifyResult{}, err
	}
	head, err := s.store.Head(ctx, account)
	if err != nil {
		return VerifyResult{}, err
	}
	w := chainWalker{account: account}
	const page = 1000
	for w.head.Seq < head.Seq {
		rs, err := s.store.Records(ctx, account, w.head.Seq, page)
		if err != nil {
			return VerifyResult{}, err
		}
		if len(rs) == 0 {
			break
		}
		for i := range rs {
			if err := w.next(&rs[i]); err != nil {
				return VerifyResult{}, err
			}
		}
	}
	if w.head.Seq != head.Seq || !eq(w.head.Hash, head.Hash) {
		return VerifyResult{}, fmt.Errorf("%w: chain ends at record %d but the head says %d", ErrChainBroken, w.head.Seq, head.Seq)
	}
	// Records beyond the head would mean a forged append.
	if extra, err := s.store.Records(ctx, account, head.Seq, 1); err != nil {
		return VerifyResult{}, err
	} else if len(extra) > 0 {
		return VerifyResult{}, fmt.Errorf("%w: record %d lies beyond the head", ErrChainBroken, extra[0].Seq)
	}
	return VerifyResult{Records: head.Seq, Head: head}, nil
}

func (s *Service) emit(ctx context.Context, account gdprkit.AccountID, typ gdprkit.EventType, actor gdprkit.ActorID, subject gdprkit.Pseudonym, attrs map[string]string) {
	e := gdprkit.Event{ID: gdprkit.NewID(), Account: account, Type: typ, Time: s.clock.Now(), Actor: actor, Subject: subject, Attrs: attrs}
	if err := s.audit.Record(ctx, e); err != nil {
		s.logger.Warn("consent: audit sink failed", "type", string(typ), "err", err)
	}
}
