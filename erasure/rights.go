package erasure

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gdprkit/gdprkit"
)

// The other data-subject rights share the erasure request model: one
// Submit with the same identity check (Verified, VerifyIdentity), due date
// and extension (Art. 12(3)), rejection, status and a receipt in the
// account's hash-chained receipt log. Rectification, restriction and
// objection run as jobs, claimed by the same workers as erasures (RunOnce,
// Work); portability is answered by Export, like access.

// Limits of a submission.
const (
	// MaxCorrections is the most corrections one rectification carries.
	MaxCorrections = 100
	// MaxCorrectionValue is the longest new value or statement, in bytes.
	MaxCorrectionValue = 10000
	// MaxPurposes is the most purposes one objection names.
	MaxPurposes = 20
)

// Correction is one thing a rectification request asks to correct: a
// field of the subject's records of a kind (Kind, Field, Value; RecordID
// narrows it to one record), or a free-text statement (Text, optionally
// about a Kind) that says what is wrong or completes the data (Art. 16:
// "including by means of providing a supplementary statement").
type Correction struct {
	// Kind is the kind of data to correct; required with Field.
	Kind Kind `json:"kind,omitempty"`
	// RecordID, when set, names the one record to correct; it must be one
	// of the subject's records of Kind, or the correction is declined.
	RecordID string `json:"record_id,omitempty"`
	// Field is the field to set (a column, a profile attribute).
	Field string `json:"field,omitempty"`
	// Value is the field's new value ("" clears it).
	Value string `json:"value,omitempty"`
	// Text is a free-text correction or supplementary statement, instead
	// of Field and Value.
	Text string `json:"text,omitempty"`
}

// CorrectionOutcome is what became of one correction.
type CorrectionOutcome string

// The correction outcomes.
const (
	// Corrected: the field was set on the records.
	Corrected CorrectionOutcome = "corrected"
	// Supplemented: a statement was added to the subject's data.
	Supplemented CorrectionOutcome = "supplemented"
	// Declined: nothing was changed; the Ground says why (the data is
	// accurate, the record is not the subject's, the field cannot be
	// changed).
	Declined CorrectionOutcome = "declined"
)

// RectifyItem is one correction handed to the Rectifier, with the records
// it applies to.
type RectifyItem struct {
	// Index is the correction's position in the submission.
	Index int `json:"index"`
	// Correction is the correction as submitted.
	Correction Correction `json:"correction"`
	// Records are the IDs of the subject's records of Correction.Kind it
	// applies to: the one named by RecordID, or every record of the kind
	// the graph finds for the subject. Empty for a statement without a
	// kind.
	Records []string `json:"records,omitempty"`
}

// Rectification is what a Rectifier is asked to apply.
type Rectification struct {
	// RequestID identifies the request: the same ID after a crash means
	// the same corrections.
	RequestID string
	// Subject is the subject's ID, Key and Class as the Directory resolved
	// them.
	Subject gdprkit.SubjectID
	Key     gdprkit.SubjectID
	Class   string
	// Items are the corrections to apply, each with its records.
	Items []RectifyItem
}

// Rectified is the Rectifier's answer for one item.
type Rectified struct {
	// Outcome is what happened.
	Outcome CorrectionOutcome `json:"outcome"`
	// Records is how many records changed.
	Records int64 `json:"records,omitempty"`
	// Ground says why a correction was declined. It is kept in the
	// receipt: no personal data.
	Ground string `json:"ground,omitempty"`
}

// Rectifier applies corrections to the host's data (targets can find,
// delete, anonymise and export, but not update). Rectify returns one
// Rectified per item, in order. It MUST be idempotent: after a crash it
// may be called again with the same request and items, and must then
// change nothing more. An error is retried with backoff, as a failed
// erasure run is; wrap gdprkit.ErrInvalid for errors no retry cures.
type Rectifier interface {
	Rectify(ctx context.Context, account gdprkit.AccountID, r Rectification) ([]Rectified, error)
}

// RectifierFunc adapts a function to Rectifier.
type RectifierFunc func(ctx context.Context, account gdprkit.AccountID, r Rectification) ([]Rectified, error)

// Rectify calls f.
func (f RectifierFunc) Rectify(ctx context.Context, account gdprkit.AccountID, r Rectification) ([]Rectified, error) {
	return f(ctx, account, r)
}

// Objection is what an Objector is asked to do: stop processing the
// subject's data for Purposes (Art. 21).
type Objection struct {
	// RequestID identifies the request: the same ID after a crash means
	// the same objection.
	RequestID string
	// Subject is the subject's ID.
	Subject gdprkit.SubjectID
	// Purposes are the consent purpose keys objected to.
	Purposes []string
	// By is who filed the request ("subject" when the subject did).
	By gdprkit.ActorID
	// ReceivedAt is when the request arrived.
	ReceivedAt time.Time
}

// ObjectionOutcome is what became of the objection to one purpose.
type ObjectionOutcome string

// The objection outcomes.
const (
	// Withdrawn: processing for the purpose stopped (consent withdrawn).
	Withdrawn ObjectionOutcome = "withdrawn"
	// AlreadyWithdrawn: nothing was being processed for the purpose.
	AlreadyWithdrawn ObjectionOutcome = "already_withdrawn"
	// Overridden: processing goes on on compelling legitimate grounds
	// (Art. 21(1)) named in Ground, or the purpose is unknown.
	Overridden ObjectionOutcome = "overridden"
)

// Objected is the Objector's answer for one purpose.
type Objected struct {
	// Purpose is the purpose key.
	Purpose string `json:"purpose"`
	// Outcome is what happened.
	Outcome ObjectionOutcome `json:"outcome"`
	// Ground says why processing goes on (Overridden); no personal data.
	Ground string `json:"ground,omitempty"`
	// Evidence points at the proof of the change (a consent record's
	// ID); no personal data.
	Evidence string `json:"evidence,omitempty"`
}

// Objector stops processing for purposes (Art. 21). Object returns one
// Objected per purpose, in order. It MUST be idempotent: after a crash it
// may be called again with the same objection. erasure/kitdata.Objector
// implements it over package consent.
type Objector interface {
	Object(ctx context.Context, account gdprkit.AccountID, o Objection) ([]Objected, error)
}

// ObjectorFunc adapts a function to Objector.
type ObjectorFunc func(ctx context.Context, account gdprkit.AccountID, o Objection) ([]Objected, error)

// Object calls f.
func (f ObjectorFunc) Object(ctx context.Context, account gdprkit.AccountID, o Objection) ([]Objected, error) {
	return f(ctx, account, o)
}

// RightsResult is the part of a receipt that says what a rectification,
// restriction, objection or portability request did. It holds no
// personal data: records appear as keyed pseudonyms, never values.
type RightsResult struct {
	// Corrections has one line per correction of a rectification.
	Corrections []CorrectionResult `json:"corrections,omitempty"`
	// Restricted counts, per kind, the records a restriction marked.
	Restricted []KindCount `json:"restricted,omitempty"`
	// Objections has one line per purpose of an objection.
	Objections []Objected `json:"objections,omitempty"`
	// Exported counts, per kind, the records a portability export held.
	Exported []KindCount `json:"exported,omitempty"`
}

// CorrectionResult is one correction's line in a receipt.
type CorrectionResult struct {
	// Index is the correction's position in the submission.
	Index int `json:"index"`
	// Kind and Field say what was corrected ("" for a statement).
	Kind  Kind   `json:"kind,omitempty"`
	Field string `json:"field,omitempty"`
	// RecordPS are the keyed pseudonyms of the records it applied to
	// (Service.RecordPseudonym).
	RecordPS []gdprkit.Pseudonym `json:"record_ps,omitempty"`
	// Rectified is the outcome: how many records changed, or why not.
	Rectified
}

// KindCount is a count of one kind's records.
type KindCount struct {
	Kind    Kind  `json:"kind"`
	Records int64 `json:"records"`
}

// rightsState is the job checkpoint of a rectification, restriction or
// objection, stored under the key "rights" of the job's state. The
// corrections (personal: new values) are cleared when the job finishes;
// the outcomes stay.
type rightsState struct {
	Class       string                       `json:"class,omitempty"`
	Key         gdprkit.SubjectID            `json:"key,omitempty"`
	Keys        map[string]gdprkit.SubjectID `json:"keys,omitempty"`
	Corrections []Correction                 `json:"corrections,omitempty"`
	Purposes    []string                     `json:"purposes,omitempty"`
	// Done is set once the host's Rectifier or Objector answered, so a
	// run resumed after a crash does not ask again; Result holds the
	// answer.
	Done   bool         `json:"done,omitempty"`
	Result RightsResult `json:"result,omitzero"`
}

type rightsBody struct {
	Rights rightsState `json:"rights"`
}

// validRights checks a submission's type and the payload that goes with
// it. It reads nothing.
func (s *Service) validRights(sub Submission) error {
	switch sub.Type {
	case TypeErasure, TypeAccess, TypeRectification, TypeRestriction, TypeObjection, TypePortability:
	default:
		return fmt.Errorf("%w: unknown request type %q", gdprkit.ErrInvalid, sub.Type)
	}
	if sub.Type != TypeErasure && sub.Type != TypeAccess && (sub.Scope != ScopeFull || len(sub.Rules) > 0 || sub.ReassignTo != "") {
		return fmt.Errorf("%w: scope, rules and reassignment belong to erasure requests", gdprkit.ErrInvalid)
	}
	if sub.Type != TypeRectification && len(sub.Corrections) > 0 {
		return fmt.Errorf("%w: corrections belong to rectification requests", gdprkit.ErrInvalid)
	}
	if sub.Type != TypeObjection && len(sub.Purposes) > 0 {
		return fmt.Errorf("%w: purposes belong to objection requests", gdprkit.ErrInvalid)
	}
	switch sub.Type {
	case TypeRectification:
		if s.cfg.Rectifier == nil {
			return fmt.Errorf("%w: rectification needs Config.Rectifier", gdprkit.ErrInvalid)
		}
		if len(sub.Corrections) == 0 || len(sub.Corrections) > MaxCorrections {
			return fmt.Errorf("%w: a rectification carries 1 to %d corrections, not %d", gdprkit.ErrInvalid, MaxCorrections, len(sub.Corrections))
		}
		for i, c := range sub.Corrections {
			if err := s.validCorrection(c); err != nil {
				return fmt.Errorf("correction %d: %w", i, err)
			}
		}
	case TypeObjection:
		if s.cfg.Objector == nil {
			return fmt.Errorf("%w: objection needs Config.Objector", gdprkit.ErrInvalid)
		}
		if len(sub.Purposes) == 0 || len(sub.Purposes) > MaxPurposes {
			return fmt.Errorf("%w: an objection names 1 to %d purposes, not %d", gdprkit.ErrInvalid, MaxPurposes, len(sub.Purposes))
		}
		seen := map[string]bool{}
		for _, p := range sub.Purposes {
			if err := Kind(p).Validate(); err != nil || seen[p] {
				return fmt.Errorf("%w: purpose %q is not a purpose key (1-64 bytes of a-z, 0-9, '_', '.', '-') or is named twice", gdprkit.ErrInvalid, truncate(p, 80))
			}
			seen[p] = true
		}
	}
	return nil
}

func (s *Service) validCorrection(c Correction) error {
	if c.Kind != "" {
		if _, ok := s.cfg.Graph.infos[c.Kind]; !ok {
			return fmt.Errorf("%w: unknown kind %q", gdprkit.ErrInvalid, truncate(string(c.Kind), 80))
		}
	}
	if len(c.RecordID) > 256 || (c.RecordID != "" && c.Kind == "") || strings.ContainsFunc(c.RecordID, isControl) {
		return fmt.Errorf("%w: a record ID is at most 256 bytes, without control characters, and needs a kind", gdprkit.ErrInvalid)
	}
	for what, v := range map[string]string{"value": c.Value, "text": c.Text} {
		if len(v) > MaxCorrectionValue || !utf8.ValidString(v) {
			return fmt.Errorf("%w: the %s must be valid UTF-8 of at most %d bytes", gdprkit.ErrInvalid, what, MaxCorrectionValue)
		}
	}
	switch {
	case c.Field != "" && c.Text == "":
		if c.Kind == "" {
			return fmt.Errorf("%w: a field correction needs a kind", gdprkit.ErrInvalid)
		}
		if len(c.Field) > 64 || strings.ContainsFunc(c.Field, isControl) || strings.TrimSpace(c.Field) != c.Field {
			return fmt.Errorf("%w: a field name is 1-64 bytes without control characters or outer spaces", gdprkit.ErrInvalid)
		}
	case c.Field == "" && c.Value == "" && strings.TrimSpace(c.Text) != "":
	default:
		return fmt.Errorf("%w: a correction sets a field to a value, or gives a statement as text", gdprkit.ErrInvalid)
	}
	return nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// rightsJob returns the job of a rectification, restriction or objection
// (nil for the types without one) and sets r.JobID.
func (s *Service) rightsJob(account gdprkit.AccountID, r *Request, sub Submission, subject Subject, now time.Time) (*Job, error) {
	switch sub.Type {
	case TypeRectification, TypeRestriction, TypeObjection:
	default:
		return nil, nil
	}
	st := rightsState{Class: subject.Class, Key: subject.Key, Keys: subject.Keys, Corrections: sub.Corrections, Purposes: sub.Purposes}
	if st.Key == sub.Subject {
		st.Key = ""
	}
	body, err := json.Marshal(rightsBody{st})
	if err != nil {
		return nil, err
	}
	job := &Job{ID: gdprkit.NewID(), Account: account, RequestID: r.ID, Status: JobWaiting, NextRunAt: now, State: body, CreatedAt: now, UpdatedAt: now}
	if sub.Verified {
		job.Status = JobQueued
	}
	r.JobID = job.ID
	return job, nil
}

// runRights carries out a claimed rectification, restriction or
// objection job, and finishes it with a receipt. Each step is idempotent,
// so a run resumed after a crash repeats at most the last one.
func (s *Service) runRights(ctx context.Context, job Job, token string, req Request, saved *[]byte) error {
	var body rightsBody
	if err := json.Unmarshal(job.State, &body); err != nil {
		return fmt.Errorf("%w: erasure: read the job state: %v", gdprkit.ErrInvalid, err)
	}
	st := &body.Rights
	save := func(ctx context.Context) error {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		if err := s.store.SaveJob(ctx, job.Account, job.ID, token, b, s.now().Add(s.cfg.Lease)); err != nil {
			return err
		}
		*saved = b
		return nil
	}
	if !st.Done {
		var err error
		switch req.Type {
		case TypeRestriction:
			st.Result, err = s.restrict(ctx, job.Account, req, st)
		case TypeRectification:
			st.Result, err = s.rectify(ctx, job.Account, req, st)
		case TypeObjection:
			st.Result, err = s.object(ctx, job.Account, req, st)
		default:
			err = fmt.Errorf("%w: request type %q has no job", gdprkit.ErrInvalid, req.Type)
		}
		if err != nil {
			return err
		}
		st.Done = true
		if err := save(ctx); err != nil {
			return err
		}
	}
	now := s.now()
	rcpt := Receipt{ID: gdprkit.NewID(), RequestID: req.ID, SubjectPS: req.SubjectPS, Scope: req.Scope, ReceivedAt: req.ReceivedAt,
		CompletedAt: now, Type: req.Type, Rights: st.Result, Intake: intakeOf(req)}
	for _, c := range st.Result.Corrections {
		rcpt.Partial = rcpt.Partial || c.Outcome == Declined
	}
	for _, o := range st.Result.Objections {
		rcpt.Partial = rcpt.Partial || o.Outcome == Overridden
	}
	if req.Type == TypeRectification {
		// The old values the Rectifier overwrote linger in the database's
		// files until a checkpoint or vacuum (docs/physical-erasure.md).
		phys, err := s.runPhysical(ctx, PhysicalRun{Account: job.Account, RequestID: req.ID}, save)
		if err != nil {
			return err
		}
		rcpt.Physical = phys
	}
	// What identifies the subject, or says what they asked to change, is
	// cleared; the outcomes stay with the finished job.
	st.Key, st.Keys, st.Corrections = "", nil, nil
	final, err := json.Marshal(body)
	if err != nil {
		return err
	}
	out, err := s.store.FinishJob(ctx, job.Account, job.ID, token, Finish{Receipt: rcpt, Seal: sealReceipt(job.Account), State: final, At: now})
	if err != nil {
		return fmt.Errorf("erasure: finish %s job: %w", req.Type, err)
	}
	s.emit(ctx, job.Account, gdprkit.EventType("erasure."+string(req.Type)+"_completed"), actorOf(req.RequestedBy, req.Subject), req.SubjectPS,
		rightsAttrs(req, out))
	if req.Type == TypeRectification && len(s.cfg.Physical) > 0 {
		// Again, now that finishing cleared the new values from the job.
		if _, err := s.runPhysical(ctx, PhysicalRun{Account: job.Account, RequestID: req.ID, AfterReceipt: true}, nil); err != nil {
			s.log.Warn("erasure: physical steps after the receipt did not finish", "job", job.ID, "err", err)
		}
	}
	return nil
}

// rightsAttrs are the audit attributes of a completed rights request:
// IDs and counts only.
func rightsAttrs(req Request, rc Receipt) map[string]string {
	attrs := map[string]string{"request": req.ID, "type": string(req.Type), "receipt_seq": strconv.FormatInt(rc.Seq, 10),
		"partial": strconv.FormatBool(rc.Partial)}
	sum := func(cs []KindCount) string {
		var n int64
		for _, c := range cs {
			n += c.Records
		}
		return strconv.FormatInt(n, 10)
	}
	r := rc.Rights
	switch req.Type {
	case TypeRestriction:
		attrs["restricted"] = sum(r.Restricted)
	case TypePortability:
		attrs["exported"] = sum(r.Exported)
	case TypeRectification:
		n := map[CorrectionOutcome]int{}
		for _, c := range r.Corrections {
			n[c.Outcome]++
		}
		attrs["corrected"], attrs["supplemented"], attrs["declined"] = strconv.Itoa(n[Corrected]), strconv.Itoa(n[Supplemented]), strconv.Itoa(n[Declined])
	case TypeObjection:
		n := map[ObjectionOutcome]int{}
		for _, o := range r.Objections {
			n[o.Outcome]++
		}
		attrs["withdrawn"], attrs["already_withdrawn"], attrs["overridden"] = strconv.Itoa(n[Withdrawn]), strconv.Itoa(n[AlreadyWithdrawn]), strconv.Itoa(n[Overridden])
	}
	return attrs
}

// rightsWalker returns a walker over the subject of a rights job, keyed
// as the Directory resolved them at Submit.
func (s *Service) rightsWalker(account gdprkit.AccountID, req Request, st *rightsState) *walker {
	return s.newWalker(account, req.Subject, &jobState{Scope: ScopeFull, Class: st.Class, Key: st.Key, Keys: st.Keys}, nil)
}

// rectify resolves each correction's records through the graph (a named
// record must be one of the subject's), asks the Rectifier to apply the
// ones that have records or are statements, and returns the receipt
// lines.
func (s *Service) rectify(ctx context.Context, account gdprkit.AccountID, req Request, st *rightsState) (RightsResult, error) {
	if s.cfg.Rectifier == nil {
		return RightsResult{}, fmt.Errorf("%w: rectification needs Config.Rectifier", gdprkit.ErrInvalid)
	}
	wk := s.rightsWalker(account, req, st)
	inScope := map[Kind]bool{}
	for _, k := range wk.kinds {
		inScope[k] = true
	}
	cache := map[Kind][]string{}
	lines := make([]CorrectionResult, len(st.Corrections))
	var items []RectifyItem
	for i, c := range st.Corrections {
		lines[i] = CorrectionResult{Index: i, Kind: c.Kind, Field: c.Field}
		item := RectifyItem{Index: i, Correction: c}
		if c.Kind != "" {
			var ids []string
			if inScope[c.Kind] {
				var err error
				if ids, err = wk.list(ctx, c.Kind, cache); err != nil {
					return RightsResult{}, err
				}
			}
			if c.RecordID != "" {
				found := false
				for _, id := range ids {
					found = found || id == c.RecordID
				}
				ids = nil
				if found {
					ids = []string{c.RecordID}
				}
			}
			if len(ids) == 0 && c.Text == "" {
				lines[i].Outcome, lines[i].Ground = Declined, "no record of the subject matches"
				continue
			}
			item.Records = ids
			for _, id := range ids {
				lines[i].RecordPS = append(lines[i].RecordPS, s.RecordPseudonym(account, c.Kind, id))
			}
		}
		items = append(items, item)
	}
	if len(items) > 0 {
		got, err := s.cfg.Rectifier.Rectify(ctx, account, Rectification{RequestID: req.ID, Subject: req.Subject, Key: wk.key, Class: st.Class, Items: items})
		if err != nil {
			return RightsResult{}, fmt.Errorf("erasure: rectify: %w", err)
		}
		if len(got) != len(items) {
			return RightsResult{}, fmt.Errorf("%w: the Rectifier answered %d corrections of %d", gdprkit.ErrInvalid, len(got), len(items))
		}
		for j, r := range got {
			switch r.Outcome {
			case Corrected, Supplemented, Declined:
			default:
				return RightsResult{}, fmt.Errorf("%w: the Rectifier answered outcome %q", gdprkit.ErrInvalid, truncate(string(r.Outcome), 40))
			}
			r.Ground = truncate(r.Ground, 500)
			lines[items[j].Index].Rectified = r
		}
	}
	return RightsResult{Corrections: lines}, nil
}

// object asks the Objector to stop processing for the purposes.
func (s *Service) object(ctx context.Context, account gdprkit.AccountID, req Request, st *rightsState) (RightsResult, error) {
	if s.cfg.Objector == nil {
		return RightsResult{}, fmt.Errorf("%w: objection needs Config.Objector", gdprkit.ErrInvalid)
	}
	got, err := s.cfg.Objector.Object(ctx, account, Objection{RequestID: req.ID, Subject: req.Subject, Purposes: st.Purposes,
		By: actorOf(req.RequestedBy, req.Subject), ReceivedAt: req.ReceivedAt})
	if err != nil {
		return RightsResult{}, fmt.Errorf("erasure: object: %w", err)
	}
	if len(got) != len(st.Purposes) {
		return RightsResult{}, fmt.Errorf("%w: the Objector answered %d purposes of %d", gdprkit.ErrInvalid, len(got), len(st.Purposes))
	}
	for i, o := range got {
		if o.Purpose != st.Purposes[i] {
			return RightsResult{}, fmt.Errorf("%w: the Objector answered purpose %q in place of %q", gdprkit.ErrInvalid, truncate(o.Purpose, 64), st.Purposes[i])
		}
		switch o.Outcome {
		case Withdrawn, AlreadyWithdrawn, Overridden:
		default:
			return RightsResult{}, fmt.Errorf("%w: the Objector answered outcome %q", gdprkit.ErrInvalid, truncate(string(o.Outcome), 40))
		}
		got[i].Ground, got[i].Evidence = truncate(o.Ground, 500), truncate(o.Evidence, 200)
	}
	return RightsResult{Objections: got}, nil
}

// RecordPseudonym returns the keyed pseudonym that restriction marks and
// receipts use for record id of kind: scoped by the kind's records space
// (TargetInfo.Records when set), so a message reached as "message" or as
// "authored_message" has one pseudonym.
func (s *Service) RecordPseudonym(account gdprkit.AccountID, kind Kind, id string) gdprkit.Pseudonym {
	return s.cfg.Pseudonymizer.Pseudonym(account, "record:"+s.space(kind), id)
}

// space is the records space of kind: TargetInfo.Records, or the kind.
func (s *Service) space(kind Kind) string {
	if info, ok := s.cfg.Graph.infos[kind]; ok && info.Records != "" {
		return info.Records
	}
	return string(kind)
}
