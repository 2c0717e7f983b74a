package erasure

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gdprkit/gdprkit"
)

// BatchRun is one job's run in RunBatch.
type BatchRun struct {
	// Account and Job name the job.
	Account gdprkit.AccountID
	Job     string
	// Err is the run's error, as RunOnce would return it (nil when the
	// job finished).
	Err error
}

// claimed is a job in a worker's hands: its lease token, its state in
// memory and the last checkpoint stored (a failed run gives back that,
// never the half-advanced state in memory).
type claimed struct {
	job     Job
	token   string
	st      jobState
	saved   []byte
	req     Request
	renewed time.Time // when its lease was last set (claim or checkpoint), on Config.Clock
	batch   string    // the RunBatch call that claimed it
}

// checkRun names the binding check (Caps.Check) of a job's run: the jobs
// of one batch with the same rules share one check, as the steps of one
// long job do, so a burst re-reads the host's schema once per batch
// rather than once per person.
func (c *claimed) checkRun() string {
	rules, _ := json.Marshal(c.st.Rules) // map keys sorted: the same rules, the same text
	sum := sha256.Sum256(rules)
	return "batch-" + c.batch + "-" + hex.EncodeToString(sum[:8])
}

// RunBatch claims up to max due jobs, one after another, and runs each as
// RunOnce does, with one difference: erasures that reach their verify pass
// wait there until the batch has claimed its last job, and are then
// verified together — one residue search with every waiting job's
// identifiers over every kind that can search. When that search finds
// nothing, nothing of any of them is left (each job's own search would
// look at a subset of what it looked at, after that job's erase phase);
// when it finds anything, each job is verified alone, exactly as RunOnce
// verifies. So a burst of requests costs one scan of each bound table and
// one walk of the blob store per batch rather than per person.
//
// The batch stops claiming once it has run for a third of Config.Lease,
// and renews the lease of every job waiting in it before the search. The
// jobs of a batch share their binding check (Caps.Check: the host's
// schema is read again once per batch and set of rules, as it is once
// per run of a long job).
// RunBatch returns the runs in the order they ended; its error is a
// failure to claim the first job (later claim failures end the batch).
func (s *Service) RunBatch(ctx context.Context, owner string, max int) ([]BatchRun, error) {
	if max <= 0 {
		max = 1
	}
	var (
		out     []BatchRun
		pending []*claimed
	)
	begun, batch := s.now(), gdprkit.NewID()
	for len(out)+len(pending) < max && ctx.Err() == nil {
		if len(pending) > 0 && s.now().Sub(begun) >= s.cfg.Lease/3 {
			break
		}
		c, err := s.claim(ctx, owner)
		if errors.Is(err, gdprkit.ErrNotFound) {
			break
		}
		if err != nil {
			if len(out)+len(pending) == 0 {
				return nil, err
			}
			break
		}
		c.batch = batch
		more, err := false, json.Unmarshal(c.job.State, &c.st)
		if err == nil {
			more, err = s.erasePhase(ctx, c)
		}
		if err == nil && more && max > 1 {
			pending = append(pending, c)
			s.renew(ctx, pending, &out)
			pending = stillHeld(pending, out)
			continue
		}
		if err == nil && more {
			err = s.complete(ctx, c, false)
		}
		out = append(out, s.conclude(ctx, c, err))
	}
	if len(pending) == 0 {
		return out, nil
	}
	s.renew(ctx, pending, &out)
	pending = stillHeld(pending, out)
	clean := s.verifyTogether(ctx, pending)
	for _, c := range pending {
		out = append(out, s.conclude(ctx, c, s.complete(ctx, c, clean[c])))
	}
	return out, nil
}

// claim claims the job due first.
func (s *Service) claim(ctx context.Context, owner string) (*claimed, error) {
	token := gdprkit.NewID()
	now := s.now()
	job, err := s.store.ClaimJob(ctx, now, owner, token, now.Add(s.cfg.Lease))
	if errors.Is(err, gdprkit.ErrNotFound) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("erasure: claim job: %w", err)
	}
	return &claimed{job: job, token: token, saved: job.State, renewed: now}, nil
}

// renew checkpoints the jobs waiting in a batch whose lease is a quarter
// gone, so that no other worker takes them over; a job whose checkpoint
// fails ends its run with that error (appended to out).
func (s *Service) renew(ctx context.Context, pending []*claimed, out *[]BatchRun) {
	for _, c := range pending {
		if s.now().Sub(c.renewed) < s.cfg.Lease/4 {
			continue
		}
		if err := s.checkpoint(ctx, c); err != nil {
			*out = append(*out, s.conclude(ctx, c, err))
		}
	}
}

// stillHeld drops from pending the jobs whose run already ended in out.
func stillHeld(pending []*claimed, out []BatchRun) []*claimed {
	ended := map[string]bool{}
	for _, r := range out {
		ended[string(r.Account)+"/"+r.Job] = true
	}
	kept := pending[:0]
	for _, c := range pending {
		if !ended[string(c.job.Account)+"/"+c.job.ID] {
			kept = append(kept, c)
		}
	}
	return kept
}

// conclude ends a job's run: nothing more to do when it finished or lost
// its lease; a follow-up still waiting for holds is put back without a
// failure; any other error gives the job back (giveBack).
func (s *Service) conclude(ctx context.Context, c *claimed, runErr error) BatchRun {
	r := BatchRun{Account: c.job.Account, Job: c.job.ID, Err: runErr}
	if runErr == nil || errors.Is(runErr, gdprkit.ErrLeaseLost) {
		return r
	}
	var wait waiting
	if errors.As(runErr, &wait) {
		// A follow-up whose holds are still active: not a failure.
		if err := s.store.RetryJob(ctx, c.job.Account, c.job.ID, c.token, Retry{State: c.saved, Attempts: c.job.Attempts, Next: wait.until, At: s.now()}); err != nil {
			r.Err = fmt.Errorf("erasure: put a held follow-up back: %w", err)
			return r
		}
		r.Err = nil
		return r
	}
	s.giveBack(ctx, c.job, c.token, c.saved, runErr)
	return r
}

// verifyTogether makes one residue search per account for all the
// waiting jobs of that account — every identifier of every job, over
// every kind any of them covers, before holds, Keep rules or pins are
// looked at — and reports the jobs it found clean: those of an account
// where the search found nothing at all. A search that fails or finds
// anything reports no job clean, and each is then verified alone.
func (s *Service) verifyTogether(ctx context.Context, pending []*claimed) map[*claimed]bool {
	clean := map[*claimed]bool{}
	if len(pending) < 2 {
		return clean // a job alone is verified as RunOnce verifies it
	}
	byAccount := map[gdprkit.AccountID][]*claimed{}
	var order []gdprkit.AccountID
	for _, c := range pending {
		if c.st.Verified {
			continue
		}
		if byAccount[c.job.Account] == nil {
			order = append(order, c.job.Account)
		}
		byAccount[c.job.Account] = append(byAccount[c.job.Account], c)
	}
	for _, a := range order {
		group := byAccount[a]
		if len(group) < 2 {
			continue
		}
		inScope := map[Kind]bool{}
		seen := map[string]bool{}
		var needles []Identifier
		for _, c := range group {
			w := s.newWalker(a, c.req.Subject, &c.st, nil)
			for _, k := range w.kinds {
				inScope[k] = true
			}
			for _, n := range residueNeedles(c.st.Idents, w.key) {
				if v := strings.ToLower(n.Value); !seen[v] {
					seen[v] = true
					needles = append(needles, n)
				}
			}
		}
		if len(needles) == 0 {
			continue // each job alone: findResidue has nothing to look for either
		}
		found, err := s.anyResidue(ctx, a, inScope, needles)
		if err != nil || found {
			continue
		}
		for _, c := range group {
			clean[c] = true
		}
	}
	return clean
}

// anyResidue reports whether any kind in scope that can search still
// holds any of needles.
func (s *Service) anyResidue(ctx context.Context, account gdprkit.AccountID, inScope map[Kind]bool, needles []Identifier) (bool, error) {
	for _, k := range s.cfg.Graph.order {
		if !inScope[k] || !s.cfg.Graph.infos[k].Caps.Residue {
			continue
		}
		fs, err := s.cfg.Graph.byKind[k].Residue(ctx, account, ResidueQuery{Identifiers: needles, Limit: 1})
		if err != nil {
			return false, err
		}
		if len(fs) > 0 {
			return true, nil
		}
	}
	return false, nil
}
