package erasure_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/memhelpdesk"
	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/store/sqlstore"
)

// Two workers, each with its own connection pool (two "processes"), drain
// one queue: every job completes once, with one receipt each.
func TestTwoWorkersDrainOneQueue(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			s1, db := testdb.OpenStore(t, d)
			s2, err := sqlstore.New(testdb.Reopen(t, db), d)
			require.NoError(t, err)
			hd := memhelpdesk.New()
			e1 := newEnv(t, envOpt{store: s1.Erasure(), hd: hd, acct: newAccount(), batch: 4})
			e2 := newEnv(t, envOpt{store: s2.Erasure(), hd: hd, acct: e1.acct, batch: 4})
			const n = 24
			var ids []string
			hd.AddUser(e1.acct, memhelpdesk.User{ID: "admin", Role: gdprkit.RoleAdmin, Name: "Admin"})
			for i := range n {
				u := gdprkit.SubjectID(fmt.Sprintf("user-%02d", i))
				hd.AddUser(e1.acct, memhelpdesk.User{ID: u, Role: gdprkit.RoleEndUser, Name: "User", Email: string(u) + "@example.com"})
				hd.Update(e1.acct, func(dd *memhelpdesk.Data) {
					for k := range 3 {
						tid := fmt.Sprintf("t-%s-%d", u, k)
						dd.Tickets[tid] = memhelpdesk.Ticket{ID: tid, Requester: u, Subject: "help"}
						for m := range 3 {
							mid := fmt.Sprintf("m-%s-%d", tid, m)
							dd.Messages[mid] = memhelpdesk.Message{ID: mid, Ticket: tid, Author: u, Body: "x"}
						}
					}
				})
				r := e1.erase(u, "admin")
				ids = append(ids, r.ID)
			}
			var wg sync.WaitGroup
			var mu sync.Mutex
			ran := map[string]int{}
			for w, svc := range []*erasure.Service{e1.svc, e2.svc} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						found, err := svc.RunOnce(ctx, fmt.Sprint("worker-", w))
						if !assert.NoError(t, err) || !found {
							return
						}
						mu.Lock()
						ran[fmt.Sprint("worker-", w)]++
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			total := 0
			for _, c := range ran {
				total += c
			}
			assert.Equal(t, n, total, "every job ran to completion exactly once: %v", ran)
			for _, id := range ids {
				r, err := e1.svc.Request(ctx, e1.acct, id)
				require.NoError(t, err)
				assert.Equal(t, erasure.StatusCompleted, r.Status)
				_, err = e1.svc.Receipt(ctx, e1.acct, id)
				require.NoError(t, err)
			}
			rs, err := e1.store.Receipts(ctx, e1.acct, 0, 1000)
			require.NoError(t, err)
			assert.Len(t, rs, n, "one receipt per job")
			v, err := e2.svc.VerifyReceipts(ctx, e1.acct)
			require.NoError(t, err)
			assert.EqualValues(t, n, v.Receipts)
			dd := e1.dump()
			assert.Len(t, dd.Users, 1)
			assert.Empty(t, dd.Tickets)
			assert.Empty(t, dd.Messages)
		})
	}
}
