package erasure

import (
	"time"

	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/gdprkit/gdprkit"
)

// The engine walks the graph depth first, one batch of records at a time:
// it finds a batch of a kind, erases everything under exactly that batch
// (children, then grandchildren, …), and only then deletes or anonymises
// the batch itself. A parent is therefore never removed while a child of
// it that the engine has seen is left behind, whatever fails or appears in
// between. The walk's position — a stack of frames, each holding its batch
// — is the job's checkpoint: saved after every Find, so a resumed job
// re-applies at most the one batch it was acting on (idempotently), and
// counts every record exactly once.

// jobState is the durable checkpoint of a job (and the in-memory state of
// a plan or a synchronous cascade). Fields marked personal are cleared
// when the job finishes.
type jobState struct {
	Rules map[Kind]Rule `json:"rules"`
	// ReassignTo is the ID of the agent who takes over, as submitted;
	// ReassignKey is that agent's key (personal while running).
	ReassignTo  gdprkit.SubjectID `json:"reassign_to,omitempty"`
	ReassignKey gdprkit.SubjectID `json:"reassign_key,omitempty"`
	Scope       Scope             `json:"scope"`
	// Class and Key resolve the subject (Directory.Lookup at Submit);
	// Key is personal while running.
	Class string                       `json:"class,omitempty"`
	Key   gdprkit.SubjectID            `json:"key,omitempty"`
	Keys  map[string]gdprkit.SubjectID `json:"keys,omitempty"`

	// Identified is set once the subject's identifiers were collected
	// into Idents (personal while running).
	Identified bool         `json:"identified,omitempty"`
	Idents     []Identifier `json:"idents,omitempty"`
	// Planned is the dry run's count per kind, taken when the job first
	// runs: what progress is measured against.
	Planned map[Kind]int64 `json:"planned,omitempty"`
	// RunFrom is when the current run started walking (after the plan)
	// and RunFromDone how many records were done then; SavedAt is the
	// last checkpoint's time. Job estimates the time left from the pace
	// between them.
	RunFrom     time.Time `json:"run_from,omitempty"`
	RunFromDone int64     `json:"run_from_done,omitempty"`
	SavedAt     time.Time `json:"saved_at,omitempty"`

	Pass int `json:"pass"`
	// Root indexes the graph's root-level steps in the current pass.
	Root  int     `json:"root"`
	Stack []frame `json:"stack,omitempty"`
	// PassWork counts records deleted or anonymised in the current pass.
	PassWork int64             `json:"pass_work"`
	Counts   map[Kind]*counter `json:"counts,omitempty"`
	// Remember holds the IDs of erased root records that have children,
	// so verification passes still find children that appeared under them
	// (personal while running: they may be subject keys).
	Remember map[Kind][]string `json:"remember,omitempty"`
	// Erased is set once a pass found nothing left to do.
	Erased     bool          `json:"erased,omitempty"`
	Holds      []HoldApplied `json:"holds,omitempty"`
	Notified   []Notice      `json:"notified,omitempty"`
	Deviations []string      `json:"deviations,omitempty"`
	// Residue lists what the verify pass found of the subject that no
	// keep rule or hold explains (kind, record, field; no values).
	Residue []Finding `json:"residue,omitempty"`
	// Verified is set once the verify pass found nothing left.
	Verified bool `json:"verified,omitempty"`
	// WaitHolds are the holds a follow-up job waits for: it runs once
	// none of them is active.
	WaitHolds []string `json:"wait_holds,omitempty"`
	// Pinned lists, by kind, records kept because records under them are
	// kept (a held ticket keeps its requester): the verify pass does not
	// count them as residue (personal while running).
	Pinned map[Kind][]string `json:"pinned,omitempty"`
}

// scrub clears what identifies the subject, for a finished job.
// done is how many records the job has deleted or anonymised so far.
func (st *jobState) done() int64 {
	var n int64
	for _, c := range st.Counts {
		if c != nil {
			n += c.Deleted + c.Anonymized
		}
	}
	return n
}

func (st *jobState) scrub() {
	st.ReassignKey, st.Key, st.Keys, st.Idents, st.Remember, st.Stack, st.Pinned = "", "", nil, nil, nil, nil, nil
}

// frame is one level of the walk: the records of Kind under Parents (or
// of the subject, for a root).
type frame struct {
	Kind    Kind     `json:"k"`
	Parents []string `json:"p,omitempty"`
	// Held: everything under this frame is kept, on Ground.
	Held   bool   `json:"h,omitempty"`
	Ground string `json:"g,omitempty"`
	// NoAct: the frame only leads to its children (a scope's path, a
	// root whose own records act in a later step, or remembered roots);
	// Only restricts those children to one kind. NoKids: the frame acts
	// on its records only (their children went in an earlier step).
	NoAct  bool `json:"n,omitempty"`
	NoKids bool `json:"nk,omitempty"`
	Only   Kind `json:"o,omitempty"`
	// After is the position of the next Find.
	After string `json:"a,omitempty"`
	// Last: the current batch is the last page.
	Last bool `json:"l,omitempty"`
	// The current batch: refs to act on, IDs whose children are walked
	// normally (Free) or kept (HeldIDs), and kept counts by ground.
	HasBatch bool             `json:"hb,omitempty"`
	Act      []Ref            `json:"act,omitempty"`
	Free     []string         `json:"free,omitempty"`
	HeldIDs  []string         `json:"held,omitempty"`
	Kept     map[string]int64 `json:"kept,omitempty"`
	// Pinned are IDs of the batch that must stay because records under
	// them are kept; they are kept too.
	Pinned []string `json:"pin,omitempty"`
	// Pred is what the target predicted, at Find, its action would also
	// change (database cascades): counted for a batch resumed after a
	// crash, whose first application's report was lost.
	Pred *Change `json:"pred,omitempty"`
	// Child is the position among (child kinds × {free, held}).
	Child int `json:"c,omitempty"`
	// Remembered: the batch is remembered roots (no action, no count).
	Remembered bool `json:"r,omitempty"`
	// fresh: the batch was found by this process (not loaded from a
	// checkpoint), so its action is its first.
	fresh bool
}

// counter counts one kind's records. Deleted and anonymised records are
// found once (afterwards Find no longer returns them), so those counts add
// up over passes. Kept records may be found by every pass, or by none once
// their parent is gone, so Kept is the largest count of any pass.
type counter struct {
	Deleted     int64            `json:"d,omitempty"`
	Anonymized  int64            `json:"a,omitempty"`
	Rows        int64            `json:"rw,omitempty"`
	Kept        int64            `json:"k,omitempty"`
	Bytes       int64            `json:"b,omitempty"`
	Effects     []Effect         `json:"e,omitempty"`
	Grounds     map[string]int64 `json:"g,omitempty"`
	PassKept    int64            `json:"pk,omitempty"`
	PassGrounds map[string]int64 `json:"pg,omitempty"`
}

// fold ends a pass: the kept counts become the larger of the pass's and
// the earlier passes'.
func (c *counter) fold() {
	if c.PassKept > c.Kept {
		c.Kept = c.PassKept
	}
	for g, n := range c.PassGrounds {
		if c.Grounds == nil {
			c.Grounds = map[string]int64{}
		}
		if n > c.Grounds[g] {
			c.Grounds[g] = n
		}
	}
	c.PassKept, c.PassGrounds = 0, nil
}

// maxPasses bounds the verification passes: records that keep appearing
// faster than they are erased fail the run (and it is retried later).
const maxPasses = 8

// maxRemember caps the remembered root IDs per kind.
const maxRemember = 1000

// maxIdentifiers caps the identifiers collected for one subject.
const maxIdentifiers = 200

// listPages is how many batches one read of an export list fetches.
const listPages = 10

// walker runs the cascade for one subject: execution (with a save hook),
// planning (dry) or export.
type walker struct {
	s       *Service
	account gdprkit.AccountID
	subject gdprkit.SubjectID // the subject's ID (pseudonyms, holds)
	key     gdprkit.SubjectID // what root targets find by
	ps      gdprkit.Pseudonym
	kinds   []Kind // in scope, in the order they act (receipt order)
	st      *jobState
	holds   []Hold
	dry     bool
	save    func(ctx context.Context) error
	anon    Anon
	gone    map[string]map[string]bool // dry runs: records space -> IDs deleted
}

func (s *Service) newWalker(account gdprkit.AccountID, subject gdprkit.SubjectID, st *jobState, holds []Hold) *walker {
	ps := s.cfg.Pseudonymizer.Subject(account, subject)
	root := Kind("")
	if st.Scope == ScopePortal {
		root = KindPortalProfile
	}
	if st.Counts == nil {
		st.Counts = map[Kind]*counter{}
	}
	key := st.Key
	if key == "" {
		key = subject
	}
	w := &walker{s: s, account: account, subject: subject, key: key, ps: ps, st: st, holds: holds}
	for _, k := range s.cfg.Graph.inScope(root) {
		if w.inClass(k) {
			w.kinds = append(w.kinds, k)
		}
	}
	reassign := st.ReassignKey
	if reassign == "" {
		reassign = st.ReassignTo
	}
	if st.ReassignTo == subject || reassign == key {
		// The agent being erased cannot take over their own work: it goes
		// to the unassigned queue (anything else would never finish).
		reassign = ""
	}
	w.anon = Anon{Subject: key, Pseudonym: ps, Label: "Former user " + string(ps)[3:11], ReassignTo: reassign, Identifiers: st.Idents}
	return w
}

// inClass reports whether kind k's root applies to the subject's class.
func (w *walker) inClass(k Kind) bool {
	return w.s.cfg.Graph.infos[w.s.cfg.Graph.rootOf(k)].forClass(w.st.Class)
}

func (w *walker) target(k Kind) (Target, error) {
	t, ok := w.s.cfg.Graph.byKind[k]
	if !ok {
		return nil, fmt.Errorf("%w: the graph no longer has kind %q", gdprkit.ErrInvalid, k)
	}
	return t, nil
}

func (w *walker) rule(k Kind) Rule {
	if r, ok := w.st.Rules[k]; ok && r.Action != "" {
		return r
	}
	return w.s.cfg.Graph.infos[k].Default
}

// rootFrames returns the frames that start a pass.
func (w *walker) rootFrames() []frame {
	g := w.s.cfg.Graph
	var roots []frame
	if w.st.Scope == ScopePortal {
		path := g.path(KindPortalProfile)
		f := frame{Kind: path[0]}
		if len(path) > 1 {
			f.NoAct, f.Only = true, path[1]
		}
		roots = append(roots, f)
	} else {
		for _, s := range g.steps {
			if !g.infos[s.Kind].forClass(w.st.Class) {
				continue
			}
			roots = append(roots, frame{Kind: s.Kind, NoAct: s.Mode == stepChildren, NoKids: s.Mode == stepAct})
		}
	}
	if h, ok := w.subjectHold(); ok {
		for i := range roots {
			roots[i].Held, roots[i].Ground = true, holdGround(h)
		}
	}
	return roots
}

// children returns the kinds under f's kind that the walk visits.
func (w *walker) children(f *frame) []Kind {
	if f.NoKids {
		return nil
	}
	if f.Only != "" {
		return []Kind{f.Only}
	}
	return w.s.cfg.Graph.kids[f.Kind]
}

func (w *walker) counter(k Kind) *counter {
	c := w.st.Counts[k]
	if c == nil {
		c = &counter{}
		w.st.Counts[k] = c
	}
	return c
}

// run executes (or, when dry, counts) the cascade from the checkpoint in
// w.st until a pass finds nothing left to do.
func (w *walker) run(ctx context.Context) error {
	if !w.st.Identified {
		if err := w.identify(ctx); err != nil {
			return err
		}
	}
	roots := w.rootFrames()
	for !w.st.Erased {
		if len(w.st.Stack) == 0 {
			if w.st.Root < len(roots) {
				f := roots[w.st.Root]
				if rem := w.st.Remember[f.Kind]; w.st.Pass > 0 && len(rem) > 0 && !f.Held && !f.NoKids {
					f.HasBatch, f.Remembered, f.Free = true, true, append([]string(nil), rem...)
				}
				w.st.Stack = append(w.st.Stack, f)
				continue
			}
			for _, c := range w.st.Counts {
				c.fold()
			}
			if w.dry || (w.st.Pass > 0 && w.st.PassWork == 0) {
				w.st.Erased = true
				break
			}
			if w.st.Pass+1 >= maxPasses {
				return fmt.Errorf("%w: records kept appearing through %d passes", gdprkit.ErrUnavailable, maxPasses)
			}
			w.st.Pass++
			w.st.Root, w.st.PassWork = 0, 0
			continue
		}
		if err := w.advance(ctx); err != nil {
			return err
		}
	}
	return nil
}

// identify collects the subject's identifiers from every kind in scope
// that lists them, before anything changes: targets that remove them
// from other records (JSON recipients, free text) need them while the
// records naming them still exist, and tombstones keep their pseudonyms.
func (w *walker) identify(ctx context.Context) error {
	cache := map[Kind][]string{}
	seen := map[Identifier]bool{}
	for _, id := range w.st.Idents {
		seen[id] = true
	}
	for _, k := range w.kinds {
		if !w.s.cfg.Graph.infos[k].Caps.Identifiers {
			continue
		}
		ids, err := w.list(ctx, k, cache)
		if err != nil {
			return err
		}
		t := w.s.cfg.Graph.byKind[k]
		for i := 0; i < len(ids); i += w.s.cfg.BatchSize {
			part := ids[i:min(i+w.s.cfg.BatchSize, len(ids))]
			got, err := t.Identifiers(ctx, w.account, toRefs(part))
			if err != nil {
				return fmt.Errorf("erasure: identifiers of %s: %w", k, err)
			}
			for _, x := range got {
				if x.Value == "" || seen[x] || len(w.st.Idents) >= maxIdentifiers {
					continue
				}
				seen[x] = true
				w.st.Idents = append(w.st.Idents, x)
			}
		}
	}
	sort.Slice(w.st.Idents, func(i, j int) bool {
		a, b := w.st.Idents[i], w.st.Idents[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Value < b.Value
	})
	w.st.Identified = true
	w.anon.Identifiers = w.st.Idents
	if w.save != nil && !w.dry {
		return w.save(ctx)
	}
	return nil
}

// pop removes the top frame and moves its parent (or the pass) on,
// passing up the IDs the frame's parent batch must keep.
func (w *walker) pop() {
	w.st.Stack = w.st.Stack[:len(w.st.Stack)-1]
	if n := len(w.st.Stack); n > 0 {
		w.st.Stack[n-1].Child++
	} else {
		w.st.Root++
	}
}

// advance does one step of the top frame.
func (w *walker) advance(ctx context.Context) error {
	f := &w.st.Stack[len(w.st.Stack)-1]
	if !f.HasBatch {
		if f.Last {
			w.pop()
			return nil
		}
		return w.findBatch(ctx, f)
	}
	kids := w.children(f)
	if f.Child < 2*len(kids) {
		held := f.Child%2 == 1
		ids := f.Free
		if held {
			ids = f.HeldIDs
		}
		if len(ids) == 0 {
			f.Child++
			return nil
		}
		child := frame{Kind: kids[f.Child/2], Parents: append([]string(nil), ids...), Held: held || f.Held}
		if child.Held {
			child.Ground = f.Ground
			if held && !f.Held {
				child.Ground = parentHeldGround
			}
		}
		w.st.Stack = append(w.st.Stack, child)
		return nil
	}
	// Every child of the batch is done: act on the batch itself.
	if !f.Remembered && !f.NoAct {
		ch, err := w.apply(ctx, f)
		if err != nil {
			return err
		}
		if err := w.commit(f, ch); err != nil {
			if errors.Is(err, ErrDeviation) && w.save != nil {
				// What changed is counted and recorded before the run
				// stops: a deviation is never lost from the record.
				if serr := w.save(ctx); serr != nil {
					return errors.Join(err, serr)
				}
			}
			return err
		}
	}
	w.pin(ctx, f)
	last := f.Last
	f.HasBatch, f.Remembered, f.Act, f.Free, f.HeldIDs, f.Kept, f.Pinned, f.Pred, f.Child, f.fresh = false, false, nil, nil, nil, nil, nil, nil, 0, false
	if last {
		w.pop()
	}
	return nil
}

// findBatch finds the next page of f's kind, classifies it, and saves the
// checkpoint before anything is changed.
func (w *walker) findBatch(ctx context.Context, f *frame) error {
	t, err := w.target(f.Kind)
	if err != nil {
		return err
	}
	limit := w.s.cfg.BatchSize
	q := Query{Subject: w.key, Parents: f.Parents, After: f.After, Limit: limit}
	if len(f.Parents) == 0 {
		q.Identifiers, q.Keys = w.st.Idents, w.st.Keys
	}
	refs, err := t.Find(ctx, w.account, q)
	if err != nil {
		return fmt.Errorf("erasure: find %s: %w", f.Kind, err)
	}
	if len(refs) > limit {
		return fmt.Errorf("%w: %s: Find returned %d records for a limit of %d", gdprkit.ErrInvalid, f.Kind, len(refs), limit)
	}
	if len(refs) == 0 {
		w.pop()
		return nil
	}
	f.After, f.Last = refs[len(refs)-1].Next(), len(refs) < limit
	if w.dry {
		refs = w.notGone(f.Kind, refs)
	}
	rule := w.rule(f.Kind)
	f.HasBatch, f.Child, f.fresh = true, 0, true
	keep := func(ground string) {
		if f.Kept == nil {
			f.Kept = map[string]int64{}
		}
		f.Kept[ground]++
	}
	var above map[string]Hold
	if len(f.Parents) == 0 && len(w.holds) > 0 && !f.Held {
		// A root frame reaches records that may live under a held record
		// (a message the subject wrote in a held ticket). Records whose
		// ancestry a target cannot tell are treated as not held (see
		// Caps.Parents).
		if above, _, err = w.s.heldAbove(ctx, w.account, w.holds, f.Kind, refIDs(refs)); err != nil {
			return err
		}
	}
	for _, r := range refs {
		h, held := w.recordHold(f.Kind, r.ID)
		if !held {
			h, held = above[r.ID]
		}
		switch {
		case f.Held:
			if sh, ok := w.subjectHold(); ok && len(f.Parents) == 0 {
				w.noteHold(sh)
			}
			keep(f.Ground)
			f.HeldIDs = append(f.HeldIDs, r.ID)
		case held:
			w.noteHold(h)
			keep(holdGround(h))
			f.HeldIDs = append(f.HeldIDs, r.ID)
		case f.NoAct:
			f.Free = append(f.Free, r.ID)
		case rule.Action == Keep:
			keep(rule.Ground)
			f.Free = append(f.Free, r.ID)
		default:
			r.Cursor = "" // only f.After needs it; keep checkpoints small
			f.Act = append(f.Act, r)
			f.Free = append(f.Free, r.ID)
		}
	}
	if f.NoAct {
		f.Kept = nil
		return nil
	}
	if len(f.Act) > 0 && w.s.cfg.Graph.infos[f.Kind].Caps.Predict && !w.dry {
		ch, err := t.Predict(ctx, w.account, f.Act, rule.Action, w.anonFor(rule))
		if err != nil {
			return fmt.Errorf("erasure: predict %s: %w", f.Kind, err)
		}
		if len(ch.Effects) > 0 {
			f.Pred = &Change{Effects: ch.Effects}
		}
	}
	if w.dry {
		return nil
	}
	if w.save != nil {
		return w.save(ctx)
	}
	return nil
}

// list finds every record of k for the subject, for exports and
// identifiers.
func (w *walker) list(ctx context.Context, k Kind, cache map[Kind][]string) ([]string, error) {
	if l, ok := cache[k]; ok {
		return l, nil
	}
	t, err := w.target(k)
	if err != nil {
		return nil, err
	}
	var chunks [][]string
	if p := w.s.cfg.Graph.infos[k].Parent; p == "" {
		chunks = [][]string{nil}
	} else {
		parents, err := w.list(ctx, p, cache)
		if err != nil {
			return nil, err
		}
		for i := 0; i < len(parents); i += w.s.cfg.BatchSize {
			chunks = append(chunks, parents[i:min(i+w.s.cfg.BatchSize, len(parents))])
		}
	}
	var out []string
	limit := w.s.cfg.BatchSize * listPages
	for _, c := range chunks {
		after := ""
		for {
			q := Query{Subject: w.key, Parents: c, After: after, Limit: limit}
			if c == nil {
				q.Identifiers, q.Keys = w.st.Idents, w.st.Keys
			}
			refs, err := t.Find(ctx, w.account, q)
			if err != nil {
				return nil, fmt.Errorf("erasure: find %s: %w", k, err)
			}
			for _, r := range refs {
				out = append(out, r.ID)
			}
			if len(refs) < limit {
				break
			}
			after = refs[len(refs)-1].Next()
		}
	}
	cache[k] = out
	return out, nil
}

// results turns the counters into receipt lines, in the order kinds act.
func (w *walker) results() []TargetResult {
	out := make([]TargetResult, 0, len(w.kinds))
	for _, k := range w.kinds {
		r := TargetResult{Kind: k, Action: w.rule(k).Action}
		if c := w.st.Counts[k]; c != nil {
			r.Deleted, r.Anonymized, r.Kept, r.Bytes = c.Deleted, c.Anonymized, c.Kept, c.Bytes
			if c.Rows != c.Deleted+c.Anonymized {
				r.Rows = c.Rows
			}
			r.Cascaded = append([]Effect(nil), c.Effects...)
			for g := range c.Grounds {
				r.Grounds = append(r.Grounds, g)
			}
			sort.Strings(r.Grounds)
		}
		out = append(out, r)
	}
	return out
}

func refIDs(refs []Ref) []string {
	ids := make([]string, len(refs))
	for i, r := range refs {
		ids[i] = r.ID
	}
	return ids
}

func toRefs(ids []string) []Ref {
	refs := make([]Ref, len(ids))
	for i, id := range ids {
		refs[i] = Ref{ID: id}
	}
	return refs
}
