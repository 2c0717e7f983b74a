package erasure

import (
	"fmt"
	"sort"
	"strings"

	"github.com/gdprkit/gdprkit"
)

// Graph is a validated set of targets: kinds unique, every parent present,
// no cycles, and an order that satisfies every constraint. It is immutable
// and safe for concurrent use.
//
// # The order
//
// A record's children are always deleted or anonymised before the record
// itself: the engine walks each root kind batch by batch, erasing
// everything under a batch before acting on it. Beyond that, the order
// follows constraints, never names: TargetInfo.After says which kinds
// must act before a kind (erasure/sqltarget derives them from the
// database's foreign keys, so a row that references another is handled
// first), and NewGraph derives one order from them:
//
//   - between two children of one kind, the one that must go first does;
//   - between kinds under different roots, the whole walk of one root
//     goes first — or, when a root's own records must wait for another
//     root (a user row that other roots' rows reference), its children are
//     walked early and its own records are acted on later, in a step of
//     their own;
//   - a constraint that cannot hold (a kind that must act before one of
//     its own descendants, or a cycle) is an error naming the kinds.
//
// Among kinds the constraints leave free, a deeper subtree goes first
// (an end user's tickets and messages before the root kinds that reach
// some of the same records another way), then kinds in name order.
// Targets, Plan and Receipt list kinds in exactly the order they act.
type Graph struct {
	byKind map[Kind]Target
	infos  map[Kind]TargetInfo
	kids   map[Kind][]Kind // children in run order
	height map[Kind]int    // 1 for a leaf
	steps  []step          // root-level steps in run order
	order  []Kind          // every kind, in the order it acts
}

// stepMode says what a root-level step does.
type stepMode uint8

const (
	// stepFull walks the root's children under each batch, then acts on it.
	stepFull stepMode = iota
	// stepChildren walks the root's children only; the root acts later.
	stepChildren
	// stepAct acts on the root's records only; their children went earlier.
	stepAct
)

type step struct {
	Kind Kind
	Mode stepMode
}

// NewGraph validates targets and builds a graph. It returns an error
// wrapping gdprkit.ErrInvalid for a bad kind, a duplicate, a missing parent
// or After kind, a cycle, an order that cannot hold, or a default rule the
// target cannot apply.
func NewGraph(targets ...Target) (*Graph, error) {
	g := &Graph{byKind: map[Kind]Target{}, infos: map[Kind]TargetInfo{}}
	for _, t := range targets {
		if t == nil {
			return nil, fmt.Errorf("%w: nil target", gdprkit.ErrInvalid)
		}
		info := t.Info()
		if err := info.Kind.Validate(); err != nil {
			return nil, err
		}
		if _, dup := g.byKind[info.Kind]; dup {
			return nil, fmt.Errorf("%w: two targets of kind %q", gdprkit.ErrInvalid, info.Kind)
		}
		if len(info.Actions) == 0 {
			return nil, fmt.Errorf("%w: target %q supports no action", gdprkit.ErrInvalid, info.Kind)
		}
		for _, a := range info.Actions {
			if a != Delete && a != Anonymize {
				return nil, fmt.Errorf("%w: target %q lists action %q (only delete and anonymize)", gdprkit.ErrInvalid, info.Kind, a)
			}
		}
		if err := info.Default.validate(info.Kind, info); err != nil {
			return nil, err
		}
		info.After = append([]Kind(nil), info.After...)
		info.Actions = append([]Action(nil), info.Actions...)
		info.Classes = append([]string(nil), info.Classes...)
		g.byKind[info.Kind] = t
		g.infos[info.Kind] = info
	}
	if err := g.link(); err != nil {
		return nil, err
	}
	if err := g.schedule(); err != nil {
		return nil, err
	}
	return g, nil
}

// link checks parents, rejects cycles and computes children and heights.
func (g *Graph) link() error {
	depth := map[Kind]int{}
	var visit func(k Kind, seen map[Kind]bool) (int, error)
	visit = func(k Kind, seen map[Kind]bool) (int, error) {
		if d, ok := depth[k]; ok {
			return d, nil
		}
		if seen[k] {
			return 0, fmt.Errorf("%w: cycle of parents through kind %q", gdprkit.ErrInvalid, k)
		}
		seen[k] = true
		p := g.infos[k].Parent
		d := 0
		if p != "" {
			if _, ok := g.infos[p]; !ok {
				return 0, fmt.Errorf("%w: kind %q names unknown parent %q", gdprkit.ErrInvalid, k, p)
			}
			pd, err := visit(p, seen)
			if err != nil {
				return 0, err
			}
			d = pd + 1
		}
		depth[k] = d
		return d, nil
	}
	kinds := g.sortedKinds()
	for _, k := range kinds {
		if _, err := visit(k, map[Kind]bool{}); err != nil {
			return err
		}
		info := g.infos[k]
		if info.Parent != "" && len(info.Classes) > 0 {
			return fmt.Errorf("%w: kind %q: only a root kind can be limited to subject classes", gdprkit.ErrInvalid, k)
		}
		for _, a := range info.After {
			if _, ok := g.infos[a]; !ok {
				return fmt.Errorf("%w: kind %q must run after unknown kind %q", gdprkit.ErrInvalid, k, a)
			}
		}
	}
	g.kids = map[Kind][]Kind{}
	g.height = map[Kind]int{}
	byDepth := append([]Kind(nil), kinds...)
	sort.SliceStable(byDepth, func(i, j int) bool { return depth[byDepth[i]] > depth[byDepth[j]] })
	for _, k := range byDepth {
		if g.height[k] == 0 {
			g.height[k] = 1
		}
		if p := g.infos[k].Parent; p != "" {
			g.kids[p] = append(g.kids[p], k)
			g.height[p] = max(g.height[p], g.height[k]+1)
		}
	}
	return nil
}

func (g *Graph) sortedKinds() []Kind {
	out := make([]Kind, 0, len(g.infos))
	for k := range g.infos {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// rootOf returns the root kind above k (k itself for a root).
func (g *Graph) rootOf(k Kind) Kind {
	for g.infos[k].Parent != "" {
		k = g.infos[k].Parent
	}
	return k
}

// rootNode is one node of the root-level order: a root's children walk
// (act false) or its own records (act true).
type rootNode struct {
	Kind Kind
	Act  bool
}

func (n rootNode) String() string {
	if n.Act {
		return string(n.Kind)
	}
	return "the kinds under " + string(n.Kind)
}

// schedule derives the children's order under every kind and the
// root-level steps from the After constraints.
func (g *Graph) schedule() error {
	sib := map[Kind]map[Kind][]Kind{} // parent -> child -> children that must follow it
	rootEdges := map[rootNode][]rootNode{}
	addRoot := func(a, b rootNode) {
		for _, x := range rootEdges[a] {
			if x == b {
				return
			}
		}
		rootEdges[a] = append(rootEdges[a], b)
	}
	nodeOf := func(k Kind) rootNode {
		if g.infos[k].Parent == "" {
			return rootNode{k, true}
		}
		return rootNode{g.rootOf(k), false}
	}
	for _, y := range g.sortedKinds() {
		for _, x := range g.infos[y].After { // x before y
			if x == y {
				return fmt.Errorf("%w: kind %q cannot run after itself", gdprkit.ErrInvalid, x)
			}
			px, py := g.path(x), g.path(y)
			if px[0] != py[0] {
				addRoot(nodeOf(x), nodeOf(y))
				continue
			}
			n := 0
			for n < len(px) && n < len(py) && px[n] == py[n] {
				n++
			}
			switch {
			case n == len(px):
				return fmt.Errorf("%w: kind %q must run before %q, but %s is under %s and a record's children always go first",
					gdprkit.ErrInvalid, x, y, pathString(py), x)
			case n == len(py):
				// y is above x: its records act after everything under them.
			default:
				parent := px[n-1]
				if sib[parent] == nil {
					sib[parent] = map[Kind][]Kind{}
				}
				sib[parent][px[n]] = append(sib[parent][px[n]], py[n])
			}
		}
	}
	for p, kids := range g.kids {
		ordered, err := topo(kids, func(k Kind) []Kind { return sib[p][k] }, func(a, b Kind) bool { return a < b })
		if err != nil {
			return fmt.Errorf("%w: the kinds under %q cannot be ordered: %v", gdprkit.ErrInvalid, p, err)
		}
		g.kids[p] = ordered
	}
	var nodes []rootNode
	for _, k := range g.sortedKinds() {
		if g.infos[k].Parent != "" {
			continue
		}
		if len(g.kids[k]) > 0 {
			n := rootNode{k, false}
			nodes = append(nodes, n)
			addRoot(n, rootNode{k, true})
		}
		nodes = append(nodes, rootNode{k, true})
	}
	less := func(a, b rootNode) bool {
		if ha, hb := g.height[a.Kind], g.height[b.Kind]; ha != hb {
			return ha > hb
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return !a.Act
	}
	ordered, err := topo(nodes, func(n rootNode) []rootNode { return rootEdges[n] }, less)
	if err != nil {
		return fmt.Errorf("%w: the root kinds cannot be ordered: %v", gdprkit.ErrInvalid, err)
	}
	g.steps = g.steps[:0]
	for i := 0; i < len(ordered); i++ {
		n := ordered[i]
		switch {
		case !n.Act && i+1 < len(ordered) && ordered[i+1] == rootNode{n.Kind, true}:
			g.steps = append(g.steps, step{n.Kind, stepFull})
			i++
		case !n.Act:
			g.steps = append(g.steps, step{n.Kind, stepChildren})
		case len(g.kids[n.Kind]) > 0:
			g.steps = append(g.steps, step{n.Kind, stepAct})
		default:
			g.steps = append(g.steps, step{n.Kind, stepFull})
		}
	}
	g.order = g.order[:0]
	for _, s := range g.steps {
		if s.Mode != stepAct {
			for _, c := range g.kids[s.Kind] {
				g.order = append(g.order, g.subtree(c)...)
			}
		}
		if s.Mode != stepChildren {
			g.order = append(g.order, s.Kind)
		}
	}
	return nil
}

// topo sorts nodes so every edge a -> b (from next) puts a first, picking
// the least node (by less) among those free at each point. It returns an
// error naming the nodes of a cycle.
func topo[N comparable](nodes []N, next func(N) []N, less func(a, b N) bool) ([]N, error) {
	in := map[N]int{}
	for _, n := range nodes {
		in[n] += 0
		for _, m := range next(n) {
			in[m]++
		}
	}
	var free []N
	for _, n := range nodes {
		if in[n] == 0 {
			free = append(free, n)
		}
	}
	var out []N
	for len(free) > 0 {
		sort.Slice(free, func(i, j int) bool { return less(free[i], free[j]) })
		n := free[0]
		free = free[1:]
		out = append(out, n)
		for _, m := range next(n) {
			if in[m]--; in[m] == 0 {
				free = append(free, m)
			}
		}
	}
	if len(out) < len(nodes) {
		var stuck []string
		for _, n := range nodes {
			if in[n] > 0 {
				stuck = append(stuck, fmt.Sprint(n))
			}
		}
		sort.Strings(stuck)
		return nil, fmt.Errorf("a cycle of order constraints among %s", strings.Join(stuck, ", "))
	}
	return out, nil
}

func pathString(p []Kind) string {
	s := make([]string, len(p))
	for i, k := range p {
		s[i] = string(k)
	}
	return strings.Join(s, " > ")
}

// subtree returns k and every kind under it in the order they act:
// children (in their order, each with its own subtree first) before k.
func (g *Graph) subtree(k Kind) []Kind {
	var out []Kind
	for _, c := range g.kids[k] {
		out = append(out, g.subtree(c)...)
	}
	return append(out, k)
}

// path returns the kinds from k's root down to k.
func (g *Graph) path(k Kind) []Kind {
	var out []Kind
	for ; k != ""; k = g.infos[k].Parent {
		out = append([]Kind{k}, out...)
	}
	return out
}

// Targets describes the graph's targets in the order their records are
// deleted or anonymised.
func (g *Graph) Targets() []TargetInfo {
	out := make([]TargetInfo, len(g.order))
	for i, k := range g.order {
		out[i] = g.infos[k]
	}
	return out
}

// Order returns the kinds in the order their records are deleted or
// anonymised: what a plan and a receipt list.
func (g *Graph) Order() []Kind { return append([]Kind(nil), g.order...) }

// Target returns the target of kind k.
func (g *Graph) Target(k Kind) (Target, bool) {
	t, ok := g.byKind[k]
	return t, ok
}

// placed returns the kind whose parent chain places k's records: k when it
// has a parent, else the child kind with the same Records (message for
// authored_message, the first by name if several), else "".
func (g *Graph) placed(k Kind) Kind {
	info := g.infos[k]
	if info.Parent != "" {
		return k
	}
	if info.Records == "" {
		return ""
	}
	best := Kind("")
	for kind, i := range g.infos {
		if i.Records == info.Records && i.Parent != "" && (best == "" || kind < best) {
			best = kind
		}
	}
	return best
}

// inScope returns the kinds a walk from root reaches ("" for all), in the
// order they act.
func (g *Graph) inScope(root Kind) []Kind {
	if root == "" {
		return g.Order()
	}
	return g.subtree(root)
}
