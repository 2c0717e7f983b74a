package erasure

import (
	"context"
	"time"

	"github.com/gdprkit/gdprkit"
)

// Store is the storage the erasure package needs: requests, durable jobs,
// hash-chained receipts, tombstones and legal holds. store/memstore and
// store/sqlstore implement it; store/storetest checks every implementation
// against this contract.
//
// Every method but ClaimJob takes the account it acts in and MUST NOT read
// or change the data of any other account. ClaimJob is the one global
// query: the workers' queue. A method that returns an error MUST leave the
// store unchanged. Times are stored with microsecond precision and returned
// in UTC.
type Store interface {
	// CreateRequest stores a new request and, when job is not nil, its job,
	// in one atomic step. It MUST return an error wrapping
	// gdprkit.ErrConflict when the request ID or job ID exists.
	CreateRequest(ctx context.Context, account gdprkit.AccountID, r Request, job *Job) error

	// Request returns one request, or an error wrapping gdprkit.ErrNotFound.
	Request(ctx context.Context, account gdprkit.AccountID, id string) (Request, error)

	// Requests returns the account's requests matching f, ordered by
	// (DueAt, ID).
	Requests(ctx context.Context, account gdprkit.AccountID, f RequestFilter) ([]Request, error)

	// VerifyRequest marks an open request's identity verified at at, with
	// evidence ev (Request.Identity), and, in the same step, moves its job
	// from JobWaiting to JobQueued with NextRunAt = at. It returns an
	// error wrapping gdprkit.ErrNotFound when there is no such request and
	// gdprkit.ErrConflict when it is not open. Verifying twice is not an
	// error and changes nothing (the first evidence stays).
	VerifyRequest(ctx context.Context, account gdprkit.AccountID, id string, at time.Time, ev Evidence) error

	// ExtendRequest sets an open request's DueAt to due, Extended to true
	// and ExtensionReason to reason. It MUST return an error wrapping
	// gdprkit.ErrConflict when the request was already extended or is not
	// open, and gdprkit.ErrNotFound when there is none.
	ExtendRequest(ctx context.Context, account gdprkit.AccountID, id string, due time.Time, reason string) error

	// CloseRequest sets an open request's Status (StatusCompleted or
	// StatusRejected) and ClosedAt, clears its Subject, and cancels its job
	// if it has one that has not finished. It returns an error wrapping
	// gdprkit.ErrConflict when the request is not open.
	CloseRequest(ctx context.Context, account gdprkit.AccountID, id string, status RequestStatus, at time.Time) error

	// ClaimJob leases the job that is due first across all accounts: a
	// JobQueued job with NextRunAt at or before now, or a JobRunning job
	// whose LeaseUntil is at or before now (its worker died). It sets
	// Status JobRunning, LeaseOwner = owner, LeaseToken = token and
	// LeaseUntil = until, and returns the job. It returns an error wrapping
	// gdprkit.ErrNotFound when no job is due. Two concurrent callers MUST
	// NOT claim the same job.
	ClaimJob(ctx context.Context, now time.Time, owner, token string, until time.Time) (Job, error)

	// Job returns one job, or an error wrapping gdprkit.ErrNotFound.
	Job(ctx context.Context, account gdprkit.AccountID, id string) (Job, error)

	// SaveJob stores a running job's checkpoint and extends its lease, only
	// if its LeaseToken is token and it is JobRunning; otherwise it returns
	// an error wrapping gdprkit.ErrLeaseLost and changes nothing.
	SaveJob(ctx context.Context, account gdprkit.AccountID, id, token string, state []byte, until time.Time) error

	// RetryJob gives a running job back after a failure, guarded by token
	// like SaveJob: it stores state, attempts and lastError, clears the
	// lease, and sets Status to JobQueued with NextRunAt = next, or, when
	// failed is true, to JobFailed together with its request's status
	// (StatusFailed).
	RetryJob(ctx context.Context, account gdprkit.AccountID, id, token string, f Retry) error

	// RequeueJob sets a JobFailed job back to JobQueued with Attempts 0
	// and NextRunAt = at, keeping its state and last error, and sets its
	// request back to StatusOpen, in one atomic step. It returns an error
	// wrapping gdprkit.ErrNotFound when there is no such job and
	// gdprkit.ErrConflict when it has not failed.
	RequeueJob(ctx context.Context, account gdprkit.AccountID, id string, at time.Time) error

	// WakeJob sets a JobQueued job's NextRunAt to at (a follow-up waiting
	// for a hold that was released). It returns an error wrapping
	// gdprkit.ErrNotFound when there is no such job and gdprkit.ErrConflict
	// when it is not queued.
	WakeJob(ctx context.Context, account gdprkit.AccountID, id string, at time.Time) error

	// FinishJob completes a running job in one atomic step, guarded by
	// token like SaveJob (a second FinishJob of the same job MUST fail with
	// gdprkit.ErrLeaseLost): it calls seal with the account's receipt chain
	// head, appends the sealed receipt and advances the head; stores the
	// tombstones (existing ones, same Kind and Pseudonym, are kept as they
	// are); sets the request's Status to StatusCompleted, ClosedAt to
	// f.At and clears its Subject; sets the job JobDone with f.State; and,
	// when f.FollowUp is set, creates that request and f.FollowUpJob as
	// CreateRequest would.
	// It MUST serialise concurrent appends of one account so that seal
	// sees the true head. It returns the stored receipt.
	FinishJob(ctx context.Context, account gdprkit.AccountID, id, token string, f Finish) (Receipt, error)

	// ReceiptHead returns the account's receipt chain head; the zero value
	// when it has no receipt.
	ReceiptHead(ctx context.Context, account gdprkit.AccountID) (ChainHead, error)

	// Receipts returns up to limit receipts with Seq > afterSeq, by Seq.
	Receipts(ctx context.Context, account gdprkit.AccountID, afterSeq int64, limit int) ([]Receipt, error)

	// ReceiptFor returns the receipt of a request, or an error wrapping
	// gdprkit.ErrNotFound.
	ReceiptFor(ctx context.Context, account gdprkit.AccountID, requestID string) (Receipt, error)

	// Tombstones returns the tombstones with ErasedAt at or after since,
	// ordered by (ErasedAt, Kind, Pseudonym).
	Tombstones(ctx context.Context, account gdprkit.AccountID, since time.Time) ([]Tombstone, error)

	// PutHold stores a new hold. It MUST return an error wrapping
	// gdprkit.ErrConflict when the ID exists.
	PutHold(ctx context.Context, account gdprkit.AccountID, h Hold) error

	// ReleaseHold sets a hold's ReleasedAt. It returns an error wrapping
	// gdprkit.ErrNotFound when there is none, and gdprkit.ErrConflict when
	// it was already released.
	ReleaseHold(ctx context.Context, account gdprkit.AccountID, id string, at time.Time) error

	// Holds returns the account's holds that are not released, ordered by
	// (CreatedAt, ID). Expired holds are included; callers compare
	// ExpiresAt with their clock.
	Holds(ctx context.Context, account gdprkit.AccountID) ([]Hold, error)

	// ScrubAccount is called when the account's live data is erased: it
	// clears the Subject of every request, sets every open request to
	// StatusCancelled and its unfinished job to JobCancelled, and deletes
	// the account's restriction marks (lifted ones too: they name the
	// account's people by pseudonym, and what they restricted is gone).
	// Receipts, tombstones and holds stay. It is idempotent and returns
	// how many requests changed.
	ScrubAccount(ctx context.Context, account gdprkit.AccountID, at time.Time) (int, error)

	// The methods below serve the other data-subject rights (rights.go).

	// CompleteRequest closes an open request that has no job (a
	// portability export) with a receipt, in one atomic step: it calls
	// f.Seal with the account's receipt chain head, appends the sealed
	// f.Receipt and advances the head, as FinishJob does; sets the
	// request's Status to StatusCompleted and ClosedAt to f.At, and clears
	// its Subject. It returns an error wrapping gdprkit.ErrNotFound when
	// there is no such request, and gdprkit.ErrConflict when it is not
	// open, has a job (its job finishes it) or has a receipt; nothing
	// changes then. It MUST serialise appends as FinishJob does.
	CompleteRequest(ctx context.Context, account gdprkit.AccountID, id string, f Finish) (Receipt, error)

	// PutRestrictions stores restriction marks (Art. 18) in one atomic
	// step. A mark whose (RequestID, RecordPS) is already stored is left
	// as it is, so a restriction applied again after a crash changes
	// nothing more.
	PutRestrictions(ctx context.Context, account gdprkit.AccountID, marks []Restriction) error

	// RestrictedRecords returns those of records (record pseudonyms) that
	// carry at least one mark that is not lifted, each once, sorted.
	RestrictedRecords(ctx context.Context, account gdprkit.AccountID, records []gdprkit.Pseudonym) ([]gdprkit.Pseudonym, error)

	// SubjectRestrictions returns the subject-level marks (RecordPS "")
	// of the subject whose pseudonym is ps, lifted ones included, ordered
	// by (At, RequestID).
	SubjectRestrictions(ctx context.Context, account gdprkit.AccountID, ps gdprkit.Pseudonym) ([]Restriction, error)

	// LiftRestrictions sets LiftedAt, LiftedBy and LiftReason on every
	// mark of the restriction request requestID that is not lifted, and
	// returns how many it changed. It returns an error wrapping
	// gdprkit.ErrNotFound when the request has no mark and
	// gdprkit.ErrConflict when every mark is already lifted.
	LiftRestrictions(ctx context.Context, account gdprkit.AccountID, requestID string, l Lift) (int, error)
}

// RequestType says what the subject asked for.
type RequestType string

// The request types.
const (
	// TypeErasure is a request to be forgotten (Art. 17).
	TypeErasure RequestType = "erasure"
	// TypeAccess is a request for a copy of one's data (Art. 15/20).
	TypeAccess RequestType = "access"
	// TypeRectification asks to correct or complete the subject's data
	// (Art. 16); a Rectifier applies the corrections.
	TypeRectification RequestType = "rectification"
	// TypeRestriction asks to restrict the processing of the subject's
	// data (Art. 18): their records are marked restricted.
	TypeRestriction RequestType = "restriction"
	// TypeObjection objects to processing for named consent purposes
	// (Art. 21); an Objector stops it.
	TypeObjection RequestType = "objection"
	// TypePortability asks for the data the subject provided, in a
	// machine-readable format (Art. 20).
	TypePortability RequestType = "portability"
)

// RequestStatus is where a request stands.
type RequestStatus string

// The request statuses. Only StatusOpen requests count towards due dates.
const (
	StatusOpen      RequestStatus = "open"
	StatusCompleted RequestStatus = "completed"
	StatusRejected  RequestStatus = "rejected"
	StatusFailed    RequestStatus = "failed"
	StatusCancelled RequestStatus = "cancelled"
)

// Scope limits what an erasure reaches.
type Scope string

// The scopes.
const (
	// ScopeFull is every target of the graph.
	ScopeFull Scope = "full"
	// ScopePortal is only the customer-portal profile and what hangs
	// under it: what a customer may erase on their own.
	ScopePortal Scope = "portal"
)

// Request is one erasure or access request.
type Request struct {
	ID   string      `json:"id"`
	Type RequestType `json:"type"`
	// Subject is whose data; cleared when the request is closed, so a
	// finished request holds no identifier.
	Subject gdprkit.SubjectID `json:"subject,omitempty"`
	// SubjectPS is the subject's keyed pseudonym; it stays.
	SubjectPS   gdprkit.Pseudonym `json:"subject_ps"`
	SubjectRole gdprkit.Role      `json:"subject_role"`
	Scope       Scope             `json:"scope"`
	RequestedBy gdprkit.ActorID   `json:"requested_by"`
	ReceivedAt  time.Time         `json:"received_at"`
	// Verified reports whether the subject's identity was verified; an
	// erasure job waits until it is.
	Verified   bool      `json:"verified"`
	VerifiedAt time.Time `json:"verified_at,omitzero"`
	// DueAt is one calendar month after ReceivedAt (Art. 12(3)), or later
	// once extended.
	DueAt           time.Time     `json:"due_at"`
	Extended        bool          `json:"extended,omitempty"`
	ExtensionReason string        `json:"extension_reason,omitempty"`
	Status          RequestStatus `json:"status"`
	ClosedAt        time.Time     `json:"closed_at,omitzero"`
	// JobID is the request's job: erasure, rectification, restriction
	// and objection requests have one; access and portability requests,
	// answered by Export, have none ("").
	JobID string `json:"job_id,omitempty"`
	// Channel is how the request arrived ("" when not recorded), and
	// ChannelNote a few words more (Submission.Channel).
	Channel     Channel `json:"channel,omitempty"`
	ChannelNote string  `json:"channel_note,omitempty"`
	// Identity is how the requester's identity was verified: given at
	// Submit for a verified submission, or by VerifyIdentityWith. Its
	// Method is "" when the verification recorded none.
	Identity Evidence `json:"identity,omitzero"`
}

// RequestFilter selects requests.
type RequestFilter struct {
	// OpenOnly keeps only StatusOpen requests.
	OpenOnly bool
	// DueBefore, when not zero, keeps requests with DueAt before it.
	DueBefore time.Time
	// Limit caps the result (0: 1000).
	Limit int
}

// JobStatus is where a job stands.
type JobStatus string

// The job statuses.
const (
	// JobWaiting: the request's identity is not verified yet.
	JobWaiting JobStatus = "waiting"
	JobQueued  JobStatus = "queued"
	JobRunning JobStatus = "running"
	JobDone    JobStatus = "done"
	JobFailed  JobStatus = "failed"
	// JobCancelled: the request was closed otherwise, or the account erased.
	JobCancelled JobStatus = "cancelled"
)

// Job is the durable execution of an erasure request.
type Job struct {
	ID         string            `json:"id"`
	Account    gdprkit.AccountID `json:"account"`
	RequestID  string            `json:"request_id"`
	Status     JobStatus         `json:"status"`
	Attempts   int               `json:"attempts"`
	NextRunAt  time.Time         `json:"next_run_at"`
	LeaseOwner string            `json:"lease_owner,omitempty"`
	LeaseToken string            `json:"-"`
	LeaseUntil time.Time         `json:"lease_until,omitzero"`
	// State is the engine's checkpoint (JSON), opaque to stores.
	State     []byte    `json:"-"`
	LastError string    `json:"last_error,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Retry is what RetryJob stores.
type Retry struct {
	State     []byte
	Attempts  int
	LastError string
	Next      time.Time
	Failed    bool
	At        time.Time
}

// Finish is what FinishJob stores.
type Finish struct {
	// Receipt is the draft; seal fills Seq, PrevHash and Hash.
	Receipt    Receipt
	Seal       func(head ChainHead, r *Receipt) error
	Tombstones []Tombstone
	State      []byte
	At         time.Time
	// FollowUp and FollowUpJob, when set, are created with the receipt:
	// the erasure of what legal holds kept, which runs once they end.
	FollowUp    *Request
	FollowUpJob *Job
}

// ChainHead is the position and hash of the last receipt of an account.
type ChainHead struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// Tombstone is the keyed pseudonym of one erased identifier (the subject
// ID, an e-mail address, a phone number), kept so that erased people can
// be erased again after a backup is restored.
type Tombstone struct {
	Kind      string            `json:"kind"`
	Pseudonym gdprkit.Pseudonym `json:"pseudonym"`
	ErasedAt  time.Time         `json:"erased_at"`
	RequestID string            `json:"request_id"`
}

// Hold is a legal hold: records it covers are kept, and receipts say the
// request was partly fulfilled under Art. 17(3).
type Hold struct {
	ID string `json:"id"`
	// SubjectPS, when set, holds all of that subject's data.
	SubjectPS gdprkit.Pseudonym `json:"subject_ps,omitempty"`
	// Kind and RecordID, when set, hold one record (a ticket) and
	// everything under it.
	Kind     Kind   `json:"kind,omitempty"`
	RecordID string `json:"record_id,omitempty"`
	// Ground is the legal ground cited in receipts ("Art. 17(3)(e)").
	Ground string `json:"ground"`
	// Reason is internal detail for admins; it never reaches a receipt.
	Reason     string          `json:"reason"`
	CreatedBy  gdprkit.ActorID `json:"created_by"`
	CreatedAt  time.Time       `json:"created_at"`
	ExpiresAt  time.Time       `json:"expires_at,omitzero"`
	ReleasedAt time.Time       `json:"released_at,omitzero"`
}

// Active reports whether the hold applies at now.
func (h Hold) Active(now time.Time) bool {
	return h.ReleasedAt.IsZero() && (h.ExpiresAt.IsZero() || now.Before(h.ExpiresAt))
}

// Restriction is one restriction mark (Art. 18): a record of the subject
// found when the restriction request was carried out, or the subject as a
// whole. It holds no identifier: the subject and the record appear only
// as keyed pseudonyms.
type Restriction struct {
	// RequestID is the restriction request that placed the mark.
	RequestID string `json:"request_id"`
	// SubjectPS is the restricted subject's keyed pseudonym.
	SubjectPS gdprkit.Pseudonym `json:"subject_ps"`
	// Kind is the records space of the record (the kind, or its
	// TargetInfo.Records when set); "" for the subject-level mark.
	Kind string `json:"kind,omitempty"`
	// RecordPS is the record's keyed pseudonym (Service.RecordPseudonym);
	// "" for the subject-level mark.
	RecordPS gdprkit.Pseudonym `json:"record_ps,omitempty"`
	// At is when the mark was placed.
	At time.Time `json:"at"`
	// LiftedAt, LiftedBy and LiftReason record the lifting of the
	// restriction (Art. 18(3)); zero while it is in force.
	LiftedAt   time.Time       `json:"lifted_at,omitzero"`
	LiftedBy   gdprkit.ActorID `json:"lifted_by,omitempty"`
	LiftReason string          `json:"lift_reason,omitempty"`
}

// Active reports whether the mark is in force (not lifted).
func (r Restriction) Active() bool { return r.LiftedAt.IsZero() }

// Lift is what LiftRestrictions records.
type Lift struct {
	// At is when the restriction was lifted.
	At time.Time
	// By is who lifted it.
	By gdprkit.ActorID
	// Reason says why (Art. 18(3): the subject is told before).
	Reason string
}
