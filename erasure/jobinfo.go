package erasure

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/gdprkit/gdprkit"
)

// Progress is one kind's progress in a job.
type Progress struct {
	// Kind is the target.
	Kind Kind `json:"kind"`
	// Planned is how many records the dry run before the first write
	// counted to delete or anonymise.
	Planned int64 `json:"planned"`
	// Done is how many were deleted or anonymised so far.
	Done int64 `json:"done"`
	// Kept is how many were kept so far (holds, Keep rules).
	Kept int64 `json:"kept,omitempty"`
}

// JobInfo is what a host (or an admin screen) sees of an erasure job.
type JobInfo struct {
	// ID is the job's ID and RequestID its request's.
	ID        string `json:"id"`
	RequestID string `json:"request_id"`
	// Status is where the job stands.
	Status JobStatus `json:"status"`
	// Attempts counts the failed runs; LastError is the last one's error
	// (table and constraint names, never values).
	Attempts  int    `json:"attempts"`
	LastError string `json:"last_error,omitempty"`
	// NextRunAt is when a queued job is due.
	NextRunAt time.Time `json:"next_run_at"`
	// CreatedAt and UpdatedAt bound the job's life so far.
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Pass is the verification pass the walk is in (0 for the first).
	Pass int `json:"pass"`
	// Progress has one line per kind with planned or done work, in the
	// order kinds act.
	Progress []Progress `json:"progress,omitempty"`
	// Done and Planned total the progress lines.
	Done    int64 `json:"done"`
	Planned int64 `json:"planned"`
	// Remaining estimates the time left from the pace so far (zero when
	// unknown or finished).
	Remaining time.Duration `json:"remaining,omitempty"`
	// Deviations lists what changed differently from the plan; a job
	// with deviations ends failed.
	Deviations []string `json:"deviations,omitempty"`
	// Residue lists where the verify pass still found the subject's
	// identifiers (kind, record, field; never the value).
	Residue []Finding `json:"residue,omitempty"`
}

// Job returns the job of an erasure request: status, attempts, last
// error, and done / planned per kind with an estimate of the time left.
// It returns an error wrapping gdprkit.ErrNotFound for an unknown request
// or one without a job (an access request).
func (s *Service) Job(ctx context.Context, account gdprkit.AccountID, requestID string) (JobInfo, error) {
	if err := account.Validate(); err != nil {
		return JobInfo{}, err
	}
	req, err := s.store.Request(ctx, account, requestID)
	if err != nil {
		return JobInfo{}, err
	}
	if req.JobID == "" {
		return JobInfo{}, fmt.Errorf("%w: request %s has no erasure job", gdprkit.ErrNotFound, requestID)
	}
	job, err := s.store.Job(ctx, account, req.JobID)
	if err != nil {
		return JobInfo{}, err
	}
	info := JobInfo{ID: job.ID, RequestID: job.RequestID, Status: job.Status, Attempts: job.Attempts, LastError: job.LastError,
		NextRunAt: job.NextRunAt, CreatedAt: job.CreatedAt, UpdatedAt: job.UpdatedAt}
	var st jobState
	if len(job.State) > 0 {
		if err := json.Unmarshal(job.State, &st); err != nil {
			return JobInfo{}, fmt.Errorf("erasure: read job state: %w", err)
		}
	}
	info.Pass, info.Deviations, info.Residue = st.Pass, st.Deviations, st.Residue
	for _, k := range s.cfg.Graph.order {
		p := Progress{Kind: k, Planned: st.Planned[k]}
		if c := st.Counts[k]; c != nil {
			p.Done, p.Kept = c.Deleted+c.Anonymized, max(c.Kept, c.PassKept)
		}
		if p.Planned == 0 && p.Done == 0 && p.Kept == 0 {
			continue
		}
		info.Progress = append(info.Progress, p)
		info.Done += p.Done
		info.Planned += p.Planned
	}
	if (job.Status == JobRunning || job.Status == JobQueued) && info.Done > 0 && info.Planned > info.Done {
		elapsed := job.UpdatedAt.Sub(job.CreatedAt)
		if elapsed > 0 {
			info.Remaining = time.Duration(float64(elapsed) / float64(info.Done) * float64(info.Planned-info.Done))
		}
	}
	return info, nil
}

// Jobs returns the jobs of the account's erasure requests that match f
// (open ones by default), as Job describes them: an admin screen lists
// failed jobs with their errors and offers Retry.
func (s *Service) Jobs(ctx context.Context, account gdprkit.AccountID, f RequestFilter) ([]JobInfo, error) {
	rs, err := s.Requests(ctx, account, f)
	if err != nil {
		return nil, err
	}
	var out []JobInfo
	for _, r := range rs {
		if r.JobID == "" {
			continue
		}
		j, err := s.Job(ctx, account, r.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, nil
}

// Retry queues a failed erasure job again, from its last checkpoint, with
// its attempts reset, and reopens its request: after an admin removed the
// cause (a trigger, a constraint, a binding). It returns an error wrapping
// gdprkit.ErrConflict when the job has not failed.
func (s *Service) Retry(ctx context.Context, account gdprkit.AccountID, requestID string, by gdprkit.ActorID) error {
	if err := account.Validate(); err != nil {
		return err
	}
	if err := by.Validate(); err != nil {
		return err
	}
	req, err := s.store.Request(ctx, account, requestID)
	if err != nil {
		return err
	}
	if req.JobID == "" {
		return fmt.Errorf("%w: request %s has no erasure job", gdprkit.ErrNotFound, requestID)
	}
	if err := s.store.RequeueJob(ctx, account, req.JobID, s.now()); err != nil {
		return fmt.Errorf("erasure: retry: %w", err)
	}
	s.emit(ctx, account, "erasure.retried", by, req.SubjectPS, map[string]string{"request": req.ID, "job": req.JobID})
	return nil
}
