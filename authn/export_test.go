package authn

import "sync/atomic"

// KDFRuns returns the KDF runs the Service's hasher made, keyed by scheme
// and cost ("argon2id m=64,t=1,p=1", "bcrypt 4"), so external tests can
// compare the work of two paths without timing them.
func KDFRuns(s *Service) map[string]int64 {
	out := map[string]int64{}
	s.hasher.runs.Range(func(k, v any) bool {
		out[k.(string)] = v.(*atomic.Int64).Load()
		return true
	})
	return out
}

// ArgonRun and BcryptRun name a KDF run as KDFRuns does.
var (
	ArgonRun  = argonRun
	BcryptRun = bcryptRun
)

// BudgetSize returns how many source and account budgets the Service holds.
func BudgetSize(s *Service) int { return s.budgets.size() }
