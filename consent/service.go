package consent

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"time"

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

// WithStore returns a Service that is s in everything but its store: the
// same pseudonymizer, clock, audit sink and logger over st. It is how a
// host records consent inside its own transaction, together with the rows
// the consent is for (see the package documentation):
//
//	svc.WithStore(sqlStore.WithTx(tx).Consent())
//
// The returned Service is as safe for concurrent use as st is; one over a
// transaction-bound store serves one goroutine at a time. A nil st is a
// programming error: WithStore panics.
func (s *Service) WithStore(st Store) *Service {
	if st == nil {
		panic("consent: WithStore(nil)")
	}
	ns := *s
	ns.store = st
	return &ns
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

// MaxBatch is the most record IDs PseudonymizeRecords and RecordsByID take
// in one call, and the largest page LiveRecordIDs returns.
const MaxBatch = 1000

// Pseudonymize removes subject's identifier, the recorder, IP addresses,
// user agents and wordings from all their records, keeping the records,
// their commitments and the chain — the proof that consent existed. It is
// PseudonymizeRecords over LiveRecordIDs, page by page, so it holds at
// most MaxBatch IDs at a time. It is idempotent and returns how many
// records changed.
func (s *Service) Pseudonymize(ctx context.Context, account gdprkit.AccountID, subject gdprkit.SubjectID, by gdprkit.ActorID) (int, error) {
	if err := account.Validate(); err != nil {
		return 0, err
	}
	if err := subject.Validate(); err != nil {
		return 0, err
	}
	ps := s.ps.Subject(account, subject)
	total, after := 0, ""
	for {
		ids, err := s.store.LiveRecordIDs(ctx, account, ps, after, MaxBatch)
		if err != nil {
			return total, fmt.Errorf("consent: pseudonymize: %w", err)
		}
		if len(ids) == 0 {
			break
		}
		n, err := s.store.PseudonymizeRecords(ctx, account, ps, ids)
		if err != nil {
			return total, fmt.Errorf("consent: pseudonymize: %w", err)
		}
		total += n
		after = ids[len(ids)-1]
	}
	s.emit(ctx, account, "consent.pseudonymized", by, ps, map[string]string{"records": strconv.Itoa(total)})
	return total, nil
}

// LiveRecordIDs returns up to limit (1 to MaxBatch) IDs of subject's
// records that are not yet pseudonymised, in ascending order of ID, each
// greater than afterID ("" for the first page). Pass the last ID of a page
// as the next afterID to walk all of them, however many, while
// PseudonymizeRecords changes the ones already listed. Bad input returns an
// error wrapping gdprkit.ErrInvalid.
func (s *Service) LiveRecordIDs(ctx context.Context, account gdprkit.AccountID, subject gdprkit.SubjectID, afterID string, limit int) ([]string, error) {
	if err := account.Validate(); err != nil {
		return nil, err
	}
	if err := subject.Validate(); err != nil {
		return nil, err
	}
	if limit < 1 || limit > MaxBatch {
		return nil, fmt.Errorf("%w: page limit must be 1 to %d, not %d", gdprkit.ErrInvalid, MaxBatch, limit)
	}
	if afterID != "" {
		if err := validRecordID(afterID); err != nil {
			return nil, err
		}
	}
	ids, err := s.store.LiveRecordIDs(ctx, account, s.ps.Subject(account, subject), afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("consent: live record IDs: %w", err)
	}
	return ids, nil
}

// PseudonymizeRecords removes the identifying values — subject, recorder,
// IP address, user agent, wording — from exactly the listed records of
// subject (at most MaxBatch) in one store step, keeping the records, their
// commitments and the chain, so Verify and every proof exported before
// still verify. It returns how many records it changed: IDs that are not
// the subject's, or already pseudonymised, count 0, so it is idempotent.
// An empty list changes nothing. Records sealed under chain version 1 keep
// their RecordedBy and Wording until Reseal. Bad input returns an error
// wrapping gdprkit.ErrInvalid and changes nothing.
func (s *Service) PseudonymizeRecords(ctx context.Context, account gdprkit.AccountID, subject gdprkit.SubjectID, ids []string, by gdprkit.ActorID) (int, error) {
	if err := account.Validate(); err != nil {
		return 0, err
	}
	if err := subject.Validate(); err != nil {
		return 0, err
	}
	if err := validRecordIDs(ids); err != nil {
		return 0, err
	}
	if len(ids) == 0 {
		return 0, nil
	}
	ps := s.ps.Subject(account, subject)
	n, err := s.store.PseudonymizeRecords(ctx, account, ps, ids)
	if err != nil {
		return 0, fmt.Errorf("consent: pseudonymize records: %w", err)
	}
	if n > 0 {
		s.emit(ctx, account, "consent.pseudonymized", by, ps, map[string]string{"records": strconv.Itoa(n)})
	}
	return n, nil
}

// RecordsByID returns the listed records of subject (at most MaxBatch), in
// chain order, pseudonymised or not; IDs that are not the subject's are
// left out. It is the export (GDPR Art. 15 and 20) of those records.
func (s *Service) RecordsByID(ctx context.Context, account gdprkit.AccountID, subject gdprkit.SubjectID, ids []string) ([]Record, error) {
	if err := account.Validate(); err != nil {
		return nil, err
	}
	if err := subject.Validate(); err != nil {
		return nil, err
	}
	if err := validRecordIDs(ids); err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, nil
	}
	rs, err := s.store.RecordsByID(ctx, account, s.ps.Subject(account, subject), ids)
	if err != nil {
		return nil, fmt.Errorf("consent: records by ID: %w", err)
	}
	return rs, nil
}

func validRecordID(id string) error {
	if id == "" || len(id) > 64 {
		return fmt.Errorf("%w: record ID must be 1 to 64 bytes", gdprkit.ErrInvalid)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c >= 0x7f {
			return fmt.Errorf("%w: record ID %q holds a character outside printable ASCII", gdprkit.ErrInvalid, truncate(id, 80))
		}
	}
	return nil
}

func validRecordIDs(ids []string) error {
	if len(ids) > MaxBatch {
		return fmt.Errorf("%w: at most %d record IDs at once, not %d", gdprkit.ErrInvalid, MaxBatch, len(ids))
	}
	for _, id := range ids {
		if err := validRecordID(id); err != nil {
			return err
		}
	}
	return nil
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
	// Records is how many records the chain holds.
	Records int64 `json:"records"`
	// Head is the chain head the walk ended at.
	Head ChainHead `json:"head"`
	// States is how many current-state entries were checked.
	States int64 `json:"states"`
	// Legacy is how many records are still sealed under chain version 1;
	// Reseal moves them to ChainVersion.
	Legacy int64 `json:"legacy,omitempty"`
}

// Verify walks the account's whole chain, checking every link, hash and
// (where the values remain) commitment, and that the chain ends at the
// stored head; then it checks the current state Check answers from: every
// entry must point to the latest record of its subject and purpose and
// agree with it, and every (subject, purpose) with records must have one.
// It returns an error wrapping ErrChainBroken that names the first problem
// when anything was edited, removed or reordered.
func (s *Service) Verify(ctx context.Context, account gdprkit.AccountID) (VerifyResult, error) {
	res, _, err := s.verify(ctx, account)
	return res, err
}

// latestRec is what Verify remembers of the latest record of one
// (subject, purpose).
type latestRec struct {
	seq     int64
	action  Action
	version int
	at      time.Time
}

func stateKeyOf(ps gdprkit.Pseudonym, purpose string) [sha256.Size]byte {
	var buf [256]byte
	return sha256.Sum256(appendStr(appendStr(buf[:0], string(ps)), purpose))
}

// verify is Verify; it also returns the Seq of the first record still under
// chain version 1 (0 when none).
func (s *Service) verify(ctx context.Context, account gdprkit.AccountID) (VerifyResult, int64, error) {
	if err := account.Validate(); err != nil {
		return VerifyResult{}, 0, err
	}
	head, err := s.store.Head(ctx, account)
	if err != nil {
		return VerifyResult{}, 0, err
	}
	w := chainWalker{account: account}
	latest := map[[sha256.Size]byte]latestRec{}
	const page = 1000
	// The walk stops at the head read above: records appended since are
	// not part of this verification (they are checked below not to be
	// forged).
	for w.head.Seq < head.Seq {
		rs, err := s.store.Records(ctx, account, w.head.Seq, int(min(page, head.Seq-w.head.Seq)))
		if err != nil {
			return VerifyResult{}, 0, err
		}
		if len(rs) == 0 {
			break
		}
		for i := range rs {
			r := &rs[i]
			if err := w.next(r); err != nil {
				return VerifyResult{}, 0, err
			}
			latest[stateKeyOf(r.SubjectPS, r.Purpose)] = latestRec{r.Seq, r.Action, r.PolicyVersion, r.At}
		}
	}
	if w.head.Seq != head.Seq || !eq(w.head.Hash, head.Hash) {
		return VerifyResult{}, 0, fmt.Errorf("%w: chain ends at record %d but the head says %d", ErrChainBroken, w.head.Seq, head.Seq)
	}
	// Records beyond the head would mean a forged append, unless an append
	// since moved the head past them: it stores records and head at once.
	if extra, err := s.store.Records(ctx, account, head.Seq, 1); err != nil {
		return VerifyResult{}, 0, err
	} else if len(extra) > 0 {
		now, err := s.store.Head(ctx, account)
		if err != nil {
			return VerifyResult{}, 0, err
		}
		if now.Seq < extra[0].Seq {
			return VerifyResult{}, 0, fmt.Errorf("%w: record %d lies beyond the head", ErrChainBroken, extra[0].Seq)
		}
	}
	// The current state must be exactly the latest record of each
	// (subject, purpose): Check answers from it.
	var states int64
	var after StateKey
	for {
		sts, err := s.store.States(ctx, account, after, page)
		if err != nil {
			return VerifyResult{}, 0, err
		}
		for _, st := range sts {
			k := stateKeyOf(st.SubjectPS, st.Purpose)
			if st.Seq > head.Seq {
				// Moved by an append after the walk: it must point to a
				// genuine later record of its own subject and purpose.
				if err := s.checkNewerState(ctx, account, st); err != nil {
					return VerifyResult{}, 0, err
				}
				delete(latest, k)
				states++
				continue
			}
			l, ok := latest[k]
			switch {
			case !ok:
				return VerifyResult{}, 0, fmt.Errorf("%w: a current-state entry (purpose %q, record %d) has no record of its subject and purpose behind it, or is there twice",
					ErrChainBroken, st.Purpose, st.Seq)
			case st.Seq != l.seq:
				return VerifyResult{}, 0, fmt.Errorf("%w: the current state of purpose %q points to record %d, but the latest record of its subject is %d",
					ErrChainBroken, st.Purpose, st.Seq, l.seq)
			case st.Action != l.action || st.PolicyVersion != l.version || !st.At.Equal(l.at):
				return VerifyResult{}, 0, fmt.Errorf("%w: the current state of purpose %q disagrees with record %d (%s, policy v%d)",
					ErrChainBroken, st.Purpose, l.seq, l.action, l.version)
			}
			delete(latest, k)
			states++
		}
		if len(sts) < page {
			break
		}
		after = sts[len(sts)-1].StateKey
	}
	if len(latest) > 0 {
		return VerifyResult{}, 0, fmt.Errorf("%w: %d (subject, purpose) pairs have records but no current-state entry", ErrChainBroken, len(latest))
	}
	return VerifyResult{Records: head.Seq, Head: head, States: states, Legacy: w.legacy}, w.firstV1, nil
}

// checkNewerState checks a current-state entry that points beyond the
// chain Verify walked: the record it names is of its subject and purpose,
// agrees with it, and matches its hash.
func (s *Service) checkNewerState(ctx context.Context, account gdprkit.AccountID, st State) error {
	rs, err := s.store.Records(ctx, account, st.Seq-1, 1)
	if err != nil {
		return err
	}
	if len(rs) == 0 || rs[0].Seq != st.Seq {
		return fmt.Errorf("%w: the current state of purpose %q points to record %d, which does not exist", ErrChainBroken, st.Purpose, st.Seq)
	}
	r := &rs[0]
	if r.SubjectPS != st.SubjectPS || r.Purpose != st.Purpose || r.Action != st.Action || r.PolicyVersion != st.PolicyVersion ||
		!r.At.Equal(st.At) || !hashMatches(account, r) {
		return fmt.Errorf("%w: the current state of purpose %q disagrees with record %d", ErrChainBroken, st.Purpose, st.Seq)
	}
	return nil
}

// ResealResult says what Reseal did.
type ResealResult struct {
	// Resealed is how many records were re-sealed: from the first one
	// under chain version 1 to the head (0 when there was none).
	Resealed int `json:"resealed"`
	// Before is the chain head as it was; the last record's PriorHash is
	// Before.Hash, which links an audit anchor taken before to the chain.
	Before ChainHead `json:"before"`
	// After is the chain head after re-sealing.
	After ChainHead `json:"after"`
}

// Reseal moves an account's chain to ChainVersion: the one-time step after
// upgrading from a gdprkit whose records were sealed under chain version 1
// (Verify reports them as Legacy). Those records hash RecordedBy and Wording
// as they are, so pseudonymisation cannot remove them; Reseal gives every
// record from the first such one to the head fresh per-field commitments,
// removes the RecordedBy and Wording of records already pseudonymised,
// relinks the chain and moves the head — in one atomic step, serialised
// with new records. It verifies the whole chain and state first and refuses
// (ErrChainBroken) to re-seal a broken one.
//
// Every re-sealed record keeps its earlier hash in PriorHash (inside its new
// hash), so proofs exported before still verify (VerifyProof) and still
// match the store (ConfirmProof). Audit anchors of the chain head taken
// before Reseal are superseded: the audit event consent.chain_resealed
// names both heads. Run it once all processes write version-2 records; it
// is idempotent (an account without version-1 records is left as it is).
func (s *Service) Reseal(ctx context.Context, account gdprkit.AccountID, by gdprkit.ActorID) (ResealResult, error) {
	res, first, err := s.verify(ctx, account)
	if err != nil {
		return ResealResult{}, fmt.Errorf("consent: reseal: %w", err)
	}
	if first == 0 {
		return ResealResult{Before: res.Head, After: res.Head}, nil
	}
	var oldHead, newHead ChainHead // the last record before and after this pass
	n, err := s.store.Rewrite(ctx, account, first, func(head ChainHead, r *Record) error {
		if r.Seq == first {
			oldHead = head // the record before first is not rewritten
		}
		if r.Seq != head.Seq+1 || !eq(r.PrevHash, oldHead.Hash) {
			return fmt.Errorf("%w: record %d does not link to record %d", ErrChainBroken, r.Seq, head.Seq)
		}
		if err := checkRecord(account, r); err != nil {
			return err
		}
		oldHead = ChainHead{Seq: r.Seq, Hash: r.Hash}
		upgrade(account, head, r)
		newHead = ChainHead{Seq: r.Seq, Hash: r.Hash}
		return nil
	})
	if err != nil {
		return ResealResult{}, fmt.Errorf("consent: reseal: %w", err)
	}
	out := ResealResult{Resealed: n, Before: oldHead, After: newHead}
	s.emit(ctx, account, "consent.chain_resealed", by, "", map[string]string{"records": strconv.Itoa(n),
		"from_seq": strconv.FormatInt(first, 10), "head_seq": strconv.FormatInt(newHead.Seq, 10),
		"before_hash": oldHead.Hash, "after_hash": newHead.Hash})
	return out, nil
}

func (s *Service) emit(ctx context.Context, account gdprkit.AccountID, typ gdprkit.EventType, actor gdprkit.ActorID, subject gdprkit.Pseudonym, attrs map[string]string) {
	e := gdprkit.Event{ID: gdprkit.NewID(), Account: account, Type: typ, Time: s.clock.Now(), Actor: actor, Subject: subject, Attrs: attrs}
	if err := s.audit.Record(ctx, e); err != nil {
		s.logger.Warn("consent: audit sink failed", "type", string(typ), "err", err)
	}
}
