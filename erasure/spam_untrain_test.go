package erasure_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/kitdata"
	"github.com/gdprkit/gdprkit/erasure/memhelpdesk"
	"github.com/gdprkit/gdprkit/spam"
	"github.com/gdprkit/gdprkit/store/memstore"
)

// trainedFromHelpdesk is how this test's host trains the filter: on a
// ticket's first message ("-0"), as its subject and body, under the
// message's ID.
func trainedFromHelpdesk(hd *memhelpdesk.Helpdesk) kitdata.SpamTrainedFunc {
	return func(_ context.Context, a gdprkit.AccountID, records []string) ([]kitdata.SpamTrained, error) {
		var out []kitdata.SpamTrained
		hd.Update(a, func(d *memhelpdesk.Data) {
			for _, id := range records {
				m, ok := d.Messages[id]
				if !ok || id[len(id)-2:] != "-0" {
					continue
				}
				out = append(out, kitdata.SpamTrained{Record: id,
					Example: spam.Example{ID: id, Message: spam.Message{Subject: d.Tickets[m.Ticket].Subject, Text: m.Body}}})
			}
		})
		return out, nil
	}
}

func TestEraseEndUserUntrainsTheSpamFilter(t *testing.T) {
	f, err := spam.New(spam.Config{Store: memstore.New().Spam(), Key: key, Clock: fakeclockNew()})
	require.NoError(t, err)
	hd := memhelpdesk.New()
	e := newEnv(t, envOpt{batch: 2, hd: hd, extra: []erasure.Target{
		kitdata.SpamLessonTarget(f, erasure.KindMessage, trainedFromHelpdesk(hd))}})
	e.seed()

	// Agents marked ana's three tickets and bob's one.
	all := []string{"m-t-ana-0-0", "m-t-ana-1-0", "m-t-ana-2-0", "m-bob-0"}
	tr, err := trainedFromHelpdesk(hd)(ctx, e.acct, all)
	require.NoError(t, err)
	var ex []spam.Example
	for i, x := range tr {
		x.Example.Class = spam.Class(1 + i%2)
		ex = append(ex, x.Example)
	}
	_, err = f.TrainBatch(ctx, e.acct, ex)
	require.NoError(t, err)
	before, err := f.Stats(ctx, e.acct)
	require.NoError(t, err)

	p, err := e.svc.Plan(ctx, e.acct, "ana", erasure.ScopeFull, nil)
	require.NoError(t, err)
	var planned int64
	for _, pt := range p.Targets {
		if pt.Kind == erasure.KindSpamLesson {
			planned = pt.Deleted
		}
	}
	assert.EqualValues(t, 3, planned, "the plan counts ana's three lessons")

	// Access export says what the filter learned from her messages.
	r, err := e.svc.Submit(ctx, e.acct, erasure.Submission{Type: erasure.TypeAccess, Subject: "ana", By: "ana"})
	require.NoError(t, err)
	require.NoError(t, e.svc.VerifyIdentity(ctx, e.acct, r.ID, "agent1"))
	var buf bytes.Buffer
	require.NoError(t, e.svc.Export(ctx, e.acct, r.ID, &buf))
	var doc struct {
		Data map[string][]json.RawMessage `json:"data"`
	}
	require.NoError(t, json.Unmarshal(buf.Bytes(), &doc))
	require.Len(t, doc.Data["spam_lesson"], 3)
	assert.JSONEq(t, `{"record":"m-t-ana-0-0","trained_as":"ham","on":"2026-01-05"}`, string(doc.Data["spam_lesson"][0]))

	e.erase("ana", "admin")
	require.Empty(t, e.drain())
	left, err := f.Lessons(ctx, e.acct, all)
	require.NoError(t, err)
	assert.Equal(t, []string{"m-bob-0"}, keys(left), "bob's lesson stays")
	after, err := f.Stats(ctx, e.acct)
	require.NoError(t, err)
	assert.Equal(t, int64(1), after.Ham+after.Spam, "the model counts only bob's message")
	assert.Less(t, after.Tokens, before.Tokens)
}

func keys(m map[string]spam.Lesson) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
