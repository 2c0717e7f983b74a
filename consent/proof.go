package consent

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/gdprkit/gdprkit"
)

// ProofFormat names the layout and hashing of the proofs ExportProof makes.
// Version 2 proofs carry each record's Version, Salts and Commits.
const ProofFormat = "gdprkit-consent-proof-v2"

// ProofFormatV1 names proofs exported before chain version 2; VerifyProof
// and ConfirmProof still accept them (their records are all version 1).
const ProofFormatV1 = "gdprkit-consent-proof-v1"

// Proof is one subject's full consent history as GDPR Art. 7(1) evidence:
// every record with its chain data, and the exact policy texts shown. It
// marshals to self-contained JSON that VerifyProof checks without access to
// the store.
type Proof struct {
	// Format is ProofFormat (or ProofFormatV1 for an older proof).
	Format string `json:"format"`
	// Account is the account whose chain holds the records.
	Account gdprkit.AccountID `json:"account"`
	// Subject is the subject's identifier. Every record that still holds
	// its identifier commits to it, and VerifyProof checks that it does.
	// ExportProof leaves it empty when no record holds it any more (after
	// erasure): nothing in the proof could then vouch for it.
	Subject gdprkit.SubjectID `json:"subject,omitempty"`
	// SubjectPS is the subject's keyed pseudonym, which every record carries.
	SubjectPS gdprkit.Pseudonym `json:"subject_pseudonym"`
	// GeneratedAt is when the proof was exported.
	GeneratedAt time.Time `json:"generated_at"`
	// Status per purpose the subject has records for, at GeneratedAt.
	// VerifyProof checks each entry against the purpose's latest record in
	// the proof: withdrawn after a withdrawal; granted, needs_reconsent or
	// expired after a grant (which of the three depends on the purpose's
	// settings at GeneratedAt, which the proof does not hold).
	Status map[string]Status `json:"status"`
	// Policies holds each policy version the records refer to, once.
	Policies []Policy `json:"policies"`
	// Records in chain order. Each carries Seq, PrevHash and Hash; a record
	// can be checked alone, and consecutive records of the subject link
	// through the account's chain whose Head is given.
	Records []Record `json:"records"`
	// Head is the account's chain head when the proof was made; an auditor
	// can compare it with a later Verify to see that nothing was removed.
	Head ChainHead `json:"head"`
}

// ExportProof builds the proof of subject's consent history.
func (s *Service) ExportProof(ctx context.Context, account gdprkit.AccountID, subject gdprkit.SubjectID) (*Proof, error) {
	rs, err := s.History(ctx, account, subject)
	if err != nil {
		return nil, err
	}
	head, err := s.store.Head(ctx, account)
	if err != nil {
		return nil, err
	}
	p := &Proof{Format: ProofFormat, Account: account, Subject: subject, SubjectPS: s.ps.Subject(account, subject),
		GeneratedAt: s.clock.Now(), Status: map[string]Status{}, Records: rs, Head: head}
	for i := range p.Records {
		if p.Records[i].Version == 0 {
			p.Records[i].Version = 1
		}
	}
	if len(rs) > 0 && !carriesSubject(rs) {
		// Erased: no record can tie the identifier to the proof any more.
		p.Subject = ""
	}
	type pv struct {
		purpose string
		version int
	}
	seen := map[pv]bool{}
	for _, r := range rs {
		k := pv{r.Purpose, r.PolicyVersion}
		if !seen[k] {
			seen[k] = true
			pol, err := s.store.Policy(ctx, account, r.Purpose, r.PolicyVersion)
			if err != nil {
				return nil, fmt.Errorf("consent: proof: policy %q v%d: %w", r.Purpose, r.PolicyVersion, err)
			}
			p.Policies = append(p.Policies, pol)
		}
		if _, ok := p.Status[r.Purpose]; !ok {
			st, err := s.Check(ctx, account, subject, r.Purpose)
			if err != nil {
				return nil, err
			}
			p.Status[r.Purpose] = st
		}
	}
	sort.Slice(p.Policies, func(i, j int) bool {
		if p.Policies[i].Purpose != p.Policies[j].Purpose {
			return p.Policies[i].Purpose < p.Policies[j].Purpose
		}
		return p.Policies[i].Version < p.Policies[j].Version
	})
	return p, nil
}

// VerifyProof checks a proof on its own: every record's hash and
// commitments, the links between consecutive records where they are
// adjacent in the chain, that each record belongs to the proof's subject,
// that each record's policy hash matches the policy text included, and that
// the status map agrees with each purpose's latest record. It returns an
// error wrapping ErrChainBroken on the first problem.
//
// A record belongs to the proof's subject when it carries the proof's
// SubjectPS and, while it still holds its identifier, the proof's Subject,
// which its subject commitment binds. A pseudonymised record has lost its
// identifier and salt, so it is tied to the subject by the pseudonym alone,
// which only the host's key can recompute; a proof whose records are all
// pseudonymised must therefore not name a Subject, and one with a record
// carrying the identifier names the subject of its pseudonymised records
// too.
//
// A proof verifies on its own, whatever happened to the store since: one
// exported before the subject was pseudonymised still verifies afterwards.
// ConfirmProof also checks that its records are still in the account's chain.
func VerifyProof(p *Proof) error {
	if p == nil || (p.Format != ProofFormat && p.Format != ProofFormatV1) {
		return fmt.Errorf("%w: not a %s document", ErrChainBroken, ProofFormat)
	}
	texts := map[string]string{}
	for _, pol := range p.Policies {
		if !eq(textHash(pol.Text), pol.TextHash) {
			return fmt.Errorf("%w: policy %q v%d text does not match its hash", ErrChainBroken, pol.Purpose, pol.Version)
		}
		texts[fmt.Sprintf("%s\x00%d", pol.Purpose, pol.Version)] = pol.TextHash
	}
	latest := map[string]Action{}
	for i := range p.Records {
		r := &p.Records[i]
		if r.SubjectPS != p.SubjectPS {
			return fmt.Errorf("%w: record %d belongs to another subject", ErrChainBroken, r.Seq)
		}
		if p.Format == ProofFormatV1 && version(r) != 1 {
			return fmt.Errorf("%w: record %d is not a version-1 record but the proof is", ErrChainBroken, r.Seq)
		}
		if holdsSubject(r) && r.Subject != p.Subject {
			return fmt.Errorf("%w: record %d belongs to another subject than the proof names", ErrChainBroken, r.Seq)
		}
		if err := checkRecord(p.Account, r); err != nil {
			return err
		}
		if h, ok := texts[fmt.Sprintf("%s\x00%d", r.Purpose, r.PolicyVersion)]; !ok || !eq(h, r.PolicyHash) {
			return fmt.Errorf("%w: record %d refers to a policy text the proof does not hold", ErrChainBroken, r.Seq)
		}
		if i > 0 {
			prev := &p.Records[i-1]
			if r.Seq <= prev.Seq {
				return fmt.Errorf("%w: records out of order at %d", ErrChainBroken, r.Seq)
			}
			if r.Seq == prev.Seq+1 && !eq(r.PrevHash, prev.Hash) {
				return fmt.Errorf("%w: record %d does not link to record %d", ErrChainBroken, r.Seq, prev.Seq)
			}
		}
		if r.Seq > p.Head.Seq {
			return fmt.Errorf("%w: record %d lies beyond the head %d", ErrChainBroken, r.Seq, p.Head.Seq)
		}
		latest[r.Purpose] = r.Action
	}
	if p.Subject != "" && len(p.Records) > 0 && !carriesSubject(p.Records) {
		return fmt.Errorf("%w: the proof names a subject but every record is pseudonymised", ErrChainBroken)
	}
	if p.Status != nil {
		for purpose, st := range p.Status {
			a, ok := latest[purpose]
			if !ok {
				return fmt.Errorf("%w: status for purpose %q, which has no record in the proof", ErrChainBroken, purpose)
			}
			if !statusFits(st, a) {
				return fmt.Errorf("%w: status %s of purpose %q contradicts its latest record (%s)", ErrChainBroken, st, purpose, a)
			}
		}
		for purpose := range latest {
			if _, ok := p.Status[purpose]; !ok {
				return fmt.Errorf("%w: no status for purpose %q", ErrChainBroken, purpose)
			}
		}
	}
	return nil
}

// carriesSubject reports whether any record still holds its identifier.
func carriesSubject(rs []Record) bool {
	for i := range rs {
		if holdsSubject(&rs[i]) {
			return true
		}
	}
	return false
}

// ConfirmProof checks a proof exported earlier — before the subject was
// pseudonymised, or before Reseal, or just now — against the account's
// current chain: the proof verifies on its own (VerifyProof), and each of
// its records is still stored at its place, with the same content, and
// with the same hash, or with that hash as its PriorHash if Reseal
// re-sealed it; each stored record verifies on its own too. Values removed
// from the store since are not compared: the commitments, which the hashes
// bind, still are. It returns an error wrapping ErrChainBroken on the first
// mismatch, and gdprkit.ErrInvalid when the proof is of another account.
// It reads only the proof's records; Verify checks the whole chain.
func (s *Service) ConfirmProof(ctx context.Context, account gdprkit.AccountID, p *Proof) error {
	if err := account.Validate(); err != nil {
		return err
	}
	if err := VerifyProof(p); err != nil {
		return err
	}
	if p.Account != account {
		return fmt.Errorf("%w: the proof is of another account", gdprkit.ErrInvalid)
	}
	for start := 0; start < len(p.Records); start += MaxBatch {
		want := p.Records[start:min(start+MaxBatch, len(p.Records))]
		ids := make([]string, len(want))
		for i := range want {
			ids[i] = want[i].ID
		}
		if err := validRecordIDs(ids); err != nil {
			return fmt.Errorf("%w: %w", ErrChainBroken, err)
		}
		got, err := s.store.RecordsByID(ctx, account, p.SubjectPS, ids)
		if err != nil {
			return fmt.Errorf("consent: confirm proof: %w", err)
		}
		byID := make(map[string]*Record, len(got))
		for i := range got {
			byID[got[i].ID] = &got[i]
		}
		for i := range want {
			if err := sameRecord(account, &want[i], byID[want[i].ID]); err != nil {
				return err
			}
		}
	}
	return nil
}

// sameRecord reports whether stored is the record a proof holds as
// exported: the same place, hash (or prior hash) and content, where both
// still hold a value.
func sameRecord(account gdprkit.AccountID, exported, stored *Record) error {
	if stored == nil {
		return fmt.Errorf("%w: record %d of the proof is no longer stored", ErrChainBroken, exported.Seq)
	}
	if err := checkRecord(account, stored); err != nil {
		return err
	}
	if stored.Seq != exported.Seq || !(eq(stored.Hash, exported.Hash) || (stored.PriorHash != "" && eq(stored.PriorHash, exported.Hash))) {
		return fmt.Errorf("%w: record %d of the proof is not the record stored at its place", ErrChainBroken, exported.Seq)
	}
	same := stored.SubjectPS == exported.SubjectPS && stored.Purpose == exported.Purpose &&
		stored.PolicyVersion == exported.PolicyVersion && stored.PolicyHash == exported.PolicyHash &&
		stored.Action == exported.Action && stored.Source == exported.Source && stored.At.Equal(exported.At)
	both := func(a, b string) bool { return a == "" || b == "" || a == b }
	same = same && both(string(stored.Subject), string(exported.Subject)) && both(string(stored.RecordedBy), string(exported.RecordedBy)) &&
		both(stored.Evidence.IP, exported.Evidence.IP) && both(stored.Evidence.UserAgent, exported.Evidence.UserAgent) &&
		both(stored.Evidence.Wording, exported.Evidence.Wording)
	if version(stored) == version(exported) {
		same = same && stored.Commits == exported.Commits && stored.SubjectCommit == exported.SubjectCommit && stored.EvidenceCommit == exported.EvidenceCommit
	}
	if !same {
		return fmt.Errorf("%w: record %d differs from the proof's copy", ErrChainBroken, exported.Seq)
	}
	return nil
}

// statusFits reports whether Check could have answered st when the latest
// record's action was a.
func statusFits(st Status, a Action) bool {
	switch a {
	case Withdraw:
		return st == StatusWithdrawn
	case Grant:
		return st == StatusGranted || st == StatusNeedsReconsent || st == StatusExpired
	}
	return false
}
