package consent

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/gdprkit/gdprkit"
)

// ProofFormat names the layout and hashing of a Proof.
const ProofFormat = "gdprkit-consent-proof-v1"

// Proof is one subject's full consent history as GDPR Art. 7(1) evidence:
// every record with its chain data, and the exact policy texts shown. It
// marshals to self-contained JSON that VerifyProof checks without access to
// the store.
type Proof struct {
	Format      string            `json:"format"`
	Account     gdprkit.AccountID `json:"account"`
	Subject     gdprkit.SubjectID `json:"subject,omitempty"`
	SubjectPS   gdprkit.Pseudonym `json:"subject_pseudonym"`
	GeneratedAt time.Time         `json:"generated_at"`
	// Status per purpose the subject has records for, at GeneratedAt.
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
// and that each record's policy hash matches the policy text included. It
// returns an error wrapping ErrChainBroken on the first problem.
func VerifyProof(p *Proof) error {
	if p == nil || p.Format != ProofFormat {
		return fmt.Errorf("%w: not a %s document", ErrChainBroken, ProofFormat)
	}
	texts := map[string]string{}
	for _, pol := range p.Policies {
		if !eq(textHash(pol.Text), pol.TextHash) {
			return fmt.Errorf("%w: policy %q v%d text does not match its hash", ErrChainBroken, pol.Purpose, pol.Version)
		}
		texts[fmt.Sprintf("%s\x00%d", pol.Purpose, pol.Version)] = pol.TextHash
	}
	for i := range p.Records {
		r := &p.Records[i]
		if r.SubjectPS != p.SubjectPS {
			return fmt.Errorf("%w: record %d belongs to another subject", ErrChainBroken, r.Seq)
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
	}
	return nil
}
