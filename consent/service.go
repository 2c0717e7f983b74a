package consent

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/gdprkit/gdprkit"
)

// Config configures a Service. Store and Pseudonymizer are required; every
// other zero value is a documented default.
type Config struct {
	// Store holds purposes, policies and the consent records. Required.
	Store Store
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

// New returns a Service over cfg.Store. It returns an error wrapping
// gdprkit.ErrInvalid when Store or Pseudonymizer is missing.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, fmt.Errorf("%w: consent: Config.Store is required", gdprkit.ErrInvalid)
	}
	if cfg.Pseudonymizer == nil {
		return nil, fmt.Errorf("%w: consent: Config.Pseudonymizer is required", gdprkit.ErrInvalid)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{store: cfg.Store, ps: cfg.Pseudonymizer, clock: gdprkit.ClockOrSystem(cfg.Clock),
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

func (s *Service) emit(ctx context.Context, account gdprkit.AccountID, typ gdprkit.EventType, actor gdprkit.ActorID, subject gdprkit.Pseudonym, attrs map[string]string) {
	e := gdprkit.Event{ID: gdprkit.NewID(), Account: account, Type: typ, Time: s.clock.Now(), Actor: actor, Subject: subject, Attrs: attrs}
	if err := s.audit.Record(ctx, e); err != nil {
		s.logger.Warn("consent: audit sink failed", "type", string(typ), "err", err)
	}
}
