package spam

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/gdprkit/gdprkit"
)

// weigh gives the same evidence and clues with the memo of clues by token
// counts as without it, across messages and across training that changes
// the model's totals (and so every memoised clue).
func TestProbMemoChangesNothing(t *testing.T) {
	ctx := context.Background()
	f, err := New(Config{Store: NewMemoryStore(), Key: []byte("0123456789abcdef-memo-key"), Refresh: -1})
	if err != nil {
		t.Fatal(err)
	}
	id := gdprkit.AccountID("memo")
	r := rand.New(rand.NewPCG(3, 4))
	words := strings.Fields("free money click here now love this song great video watch my channel subscribe please thanks " +
		"meeting agenda review prize winner cheap offer best ever lol wow amazing")
	msg := func() Message {
		var b strings.Builder
		for range 3 + r.IntN(40) {
			b.WriteString(words[r.IntN(len(words))] + " ")
		}
		return Chat(b.String())
	}
	var memo probMemo
	for round := range 6 {
		ex := make([]Example, 20+round*40) // counts grow past memoCounts
		for i := range ex {
			ex[i] = Example{ID: fmt.Sprint(round, "-", i), Message: msg(), Class: Class(1 + i%2)}
		}
		if _, err := f.TrainBatch(ctx, id, ex); err != nil {
			t.Fatal(err)
		}
		a, err := f.account(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for range 50 {
			s := &sink{key: a.tokenKey}
			s.tokenize(msg())
			hs := s.distinct()
			want := f.weigh(a, hs, nil, nil)
			got := f.weigh(a, hs, nil, &memo)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("round %d: with the memo %+v, without %+v", round, got, want)
			}
		}
	}
	if memo.gen < 6 {
		t.Errorf("the memo saw %d model totals, want one a round", memo.gen)
	}
}
