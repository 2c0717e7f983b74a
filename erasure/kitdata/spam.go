package kitdata

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/spam"
)

// SpamLessons is what SpamLessonTarget needs; *spam.Filter has it.
type SpamLessons interface {
	// Lessons returns the lessons recorded for the host's message IDs.
	Lessons(ctx context.Context, account gdprkit.AccountID, ids []string) (map[string]spam.Lesson, error)
	// ForgetBatch untrains the messages, in one store batch, and returns
	// how many lessons it forgot.
	ForgetBatch(ctx context.Context, account gdprkit.AccountID, ex []spam.Example) (int, error)
	// Reset erases an account's whole model.
	Reset(ctx context.Context, account gdprkit.AccountID) error
}

// SpamTrained is one record of the parent kind as the host trained the
// spam filter on it: the record's ID, the training ID the host passed to
// spam.Filter.Train and the message exactly as it was trained.
type SpamTrained struct {
	// Record is the ID of the parent record (a message, say).
	Record string
	// Example is the lesson: its ID and Message as trained (Class unused).
	Example spam.Example
}

// SpamTrainedFunc returns, for records of the parent kind, how the host
// trained the filter on them, in any order; records the host never trains
// on (a reply, say, when only a ticket's first message is trained) are
// left out. It is called before the parent records are deleted, since the
// cascade runs leaf-first, so the messages can still be read.
type SpamTrainedFunc func(ctx context.Context, account gdprkit.AccountID, records []string) ([]SpamTrained, error)

// SpamLessonTarget returns the target of the spam filter's lessons learned
// from the subject's messages (KindSpamLesson, a child of parent,
// typically KindMessage). Delete untrains them (spam.Filter.ForgetBatch),
// so the model no longer counts those messages' tokens, whose keyed hashes
// could otherwise still tell, to whoever holds the key, that the subject's
// address or name was seen; it is one store batch per page of refs. Its
// refs are the parent records' IDs; Find returns those with a lesson.
// Export says what each message was trained as, and when.
//
// A lesson can be forgotten only with the message as it was trained, so
// trained must return it unchanged; a lesson older than the filter's
// LessonTTL is no longer recorded, and its message's contribution to the
// model's counts stays, linked to nothing.
func SpamLessonTarget(l SpamLessons, parent erasure.Kind, trained SpamTrainedFunc) erasure.Target {
	return spamLessonTarget{l: l, parent: parent, trained: trained}
}

type spamLessonTarget struct {
	erasure.Base
	l       SpamLessons
	parent  erasure.Kind
	trained SpamTrainedFunc
}

func (t spamLessonTarget) Info() erasure.TargetInfo {
	return erasure.TargetInfo{Kind: erasure.KindSpamLesson, Parent: t.parent, Default: erasure.Rule{Action: erasure.Delete}, Actions: []erasure.Action{erasure.Delete},
		Description: "what the spam filter learned from those messages (untrained)", Categories: []string{erasure.CategoryContent},
		Caps: erasure.Caps{EraseAccount: true}}
}

// lessons returns the trained records among records that still have a
// lesson, sorted by record ID, with their lessons.
func (t spamLessonTarget) lessons(ctx context.Context, account gdprkit.AccountID, records []string) ([]SpamTrained, map[string]spam.Lesson, error) {
	if len(records) == 0 {
		return nil, nil, nil
	}
	tr, err := t.trained(ctx, account, records)
	if err != nil {
		return nil, nil, fmt.Errorf("spam lessons: read trained messages: %w", err)
	}
	ids := make([]string, len(tr))
	for i, x := range tr {
		ids[i] = x.Example.ID
	}
	ls, err := t.l.Lessons(ctx, account, ids)
	if err != nil {
		return nil, nil, err
	}
	out := tr[:0:0]
	for _, x := range tr {
		if _, ok := ls[x.Example.ID]; ok {
			out = append(out, x)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Record < out[j].Record })
	return out, ls, nil
}

func (t spamLessonTarget) Find(ctx context.Context, account gdprkit.AccountID, q erasure.Query) ([]erasure.Ref, error) {
	tr, _, err := t.lessons(ctx, account, q.Parents)
	if err != nil {
		return nil, err
	}
	var out []erasure.Ref
	for _, x := range tr {
		if x.Record > q.After && len(out) < q.Limit {
			out = append(out, erasure.Ref{ID: x.Record})
		}
	}
	return out, nil
}

func refIDs(refs []erasure.Ref) []string {
	ids := make([]string, len(refs))
	for i, r := range refs {
		ids[i] = r.ID
	}
	return ids
}

// Delete untrains the refs' messages; ForgetBatch itself skips those
// without a lesson, so it needs no lookup of its own.
func (t spamLessonTarget) Delete(ctx context.Context, account gdprkit.AccountID, _ gdprkit.SubjectID, refs []erasure.Ref) (erasure.Change, error) {
	if len(refs) == 0 {
		return erasure.Change{}, nil
	}
	tr, err := t.trained(ctx, account, refIDs(refs))
	if err != nil {
		return erasure.Change{}, fmt.Errorf("spam lessons: read trained messages: %w", err)
	}
	ex := make([]spam.Example, 0, len(tr))
	seen := make(map[string]bool, len(tr))
	for _, x := range tr {
		if !seen[x.Example.ID] { // two records trained as one lesson
			seen[x.Example.ID] = true
			ex = append(ex, x.Example)
		}
	}
	ls, err := t.l.Lessons(ctx, account, lessonIDs(ex))
	if err != nil {
		return erasure.Change{}, err
	}
	var changed int64
	for _, x := range tr {
		if _, ok := ls[x.Example.ID]; ok {
			changed++ // a record whose lesson is still there is untrained now
		}
	}
	forgot, err := t.l.ForgetBatch(ctx, account, ex)
	if err != nil {
		return erasure.Change{}, err
	}
	if len(ex) == len(tr) {
		// One lesson per record: ForgetBatch's count is exact, and lower
		// when a lesson expired or was forgotten since it was read.
		changed = min(changed, int64(forgot))
	}
	return erasure.Change{Records: min(changed, int64(len(refs)))}, nil
}

func lessonIDs(ex []spam.Example) []string {
	out := make([]string, len(ex))
	for i, x := range ex {
		out[i] = x.ID
	}
	return out
}

func (spamLessonTarget) Anonymize(context.Context, gdprkit.AccountID, []erasure.Ref, erasure.Anon) (erasure.Change, error) {
	return erasure.Change{}, erasure.ErrUnsupported
}

func (t spamLessonTarget) EraseAccount(ctx context.Context, account gdprkit.AccountID) (erasure.Change, error) {
	return erasure.Change{}, t.l.Reset(ctx, account)
}

func (t spamLessonTarget) Export(ctx context.Context, account gdprkit.AccountID, _ gdprkit.SubjectID, refs []erasure.Ref) ([]json.RawMessage, error) {
	tr, ls, err := t.lessons(ctx, account, refIDs(refs))
	if err != nil {
		return nil, err
	}
	out := make([]json.RawMessage, 0, len(tr))
	for _, x := range tr {
		l := ls[x.Example.ID]
		b, err := json.Marshal(struct {
			Record    string `json:"record"`
			TrainedAs string `json:"trained_as"`
			On        string `json:"on"`
		}{x.Record, l.Class.String(), time.Unix(int64(l.Day)*86400, 0).UTC().Format(time.DateOnly)})
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}
