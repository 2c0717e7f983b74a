package sqltarget

import (
	"fmt"
	"sort"
	"strings"

	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/sqldb"
)

// The foreign keys into bound tables: who handles each one before a
// delete, which the database cascades, which Bind refuses, the order they
// impose, and coverage of the tables nobody bound.

// references plans every delete: each foreign key into a table a target
// may delete from is handled by targets that act first, cascaded by the
// database as the host declared, or a problem.
func (a *analysis) references() {
	for _, s := range a.b.cfg.Specs {
		f := a.st.facts[s.Kind]
		if f == nil || !canDo(s, erasure.Delete) || f.table.View {
			continue
		}
		f.refs = a.refsInto(s.Kind, f.table.Name, a.rules[s.Kind] == erasure.Delete, map[string]bool{})
	}
}

// refsInto plans the foreign keys into table when kind deletes from it;
// report says whether problems count (the rules delete from it).
func (a *analysis) refsInto(kind erasure.Kind, table string, report bool, seen map[string]bool) []ref {
	if seen[strings.ToLower(table)] {
		return nil
	}
	seen[strings.ToLower(table)] = true
	defer delete(seen, strings.ToLower(table))
	var out []ref
	for _, fk := range a.schema.ReferencesTo(table) {
		from := fk.Table + "." + strings.Join(fk.Columns, ",")
		r := ref{fk: fk}
		rep := Reference{From: from, To: fk.RefTable, OnDelete: fk.OnDelete}
		by := a.handlers(kind, fk)
		a.neighbours(kind, fk)
		switch {
		case len(by) > 0:
			r.handled, r.by = true, by
			rep.By = by
			for _, k := range by {
				if !a.under(k, kind) {
					a.order(k, kind, fmt.Sprintf("%s references %s", from, fk.RefTable))
				}
			}
		case matches(a.b.cfg.Cascade, fk.Table, fk.Columns):
			rep.Cascaded = true
			switch fk.OnDelete {
			case sqldb.Cascade:
				r.nested = a.refsInto(kind, fk.Table, report, seen)
			case sqldb.SetNull, sqldb.SetDefault:
			default:
				if report {
					a.problem(Problem{Kind: kind, Table: fk.Table, Column: strings.Join(fk.Columns, ","), Class: "refused",
						Message: fmt.Sprintf("listed in Cascade, but its foreign key to %s is ON DELETE %s: the database would refuse the delete", fk.RefTable, fk.OnDelete)})
				}
			}
		default:
			if report {
				a.problem(a.unhandled(kind, fk))
			}
		}
		out = append(out, r)
		if report || len(by) > 0 {
			a.st.report.References = append(a.st.report.References, rep)
		}
	}
	return out
}

// unhandled describes a foreign key into a deleted table that nothing
// accounts for.
func (a *analysis) unhandled(kind erasure.Kind, fk sqldb.ForeignKey) Problem {
	p := Problem{Kind: kind, Table: fk.Table, Column: strings.Join(fk.Columns, ",")}
	switch fk.OnDelete {
	case sqldb.Cascade:
		p.Class = "cascade"
		p.Message = fmt.Sprintf("deleting %s rows would make the database delete these rows (ON DELETE CASCADE), which no target binds: bind %s (ParentColumn %s), or list it in Cascade",
			fk.RefTable, fk.Table, p.Column)
	case sqldb.SetNull, sqldb.SetDefault:
		p.Class = "set-null"
		p.Message = fmt.Sprintf("deleting %s rows would make the database change this column (ON DELETE %s) in rows no target binds: bind %s, or list it in Cascade",
			fk.RefTable, fk.OnDelete, fk.Table)
	default:
		p.Class = "refused"
		p.Message = fmt.Sprintf("deleting %s rows would be refused by this foreign key (ON DELETE %s): no target handles %s first; bind it (ParentColumn %s), or keep %s rows (anonymise in place)",
			fk.RefTable, fk.OnDelete, fk.Table, p.Column, fk.RefTable)
	}
	return p
}

// handlers returns the targets that handle the rows of fk's table that
// reference rows kind deletes: targets on that table that find their rows
// through the foreign key's own columns — as children of a target on the
// referenced table, or as roots by subject when kind's rows are the
// subject's own. A target that reaches the same table another way (a
// history table bound under tickets, whose rows also point at articles)
// handles only the rows it finds, which need not be those that point at
// the deleted rows: the host binds the table once more under the
// referenced kind. That keeps the check sound; the delete's own count in
// its transaction guards what no declaration can.
func (a *analysis) handlers(kind erasure.Kind, fk sqldb.ForeignKey) []erasure.Kind {
	var out []erasure.Kind
	ks := a.byKind[kind]
	for _, s := range a.b.cfg.Specs {
		f := a.st.facts[s.Kind]
		if f == nil || !strings.EqualFold(f.table.Name, fk.Table) || s.Kind == kind {
			continue
		}
		in := func(col string) bool {
			for _, c := range fk.Columns {
				if col != "" && strings.EqualFold(c, col) {
					return true
				}
			}
			return false
		}
		switch {
		case s.Parent != "" && in(s.ParentColumn) && strings.EqualFold(a.tableOf[s.Parent], fk.RefTable):
		case s.Parent == "" && in(s.SubjectColumn) && ks != nil && ks.Parent == "" && strings.EqualFold(ks.SubjectColumn, ks.Key):
		default:
			continue
		}
		out = append(out, s.Kind)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// neighbours orders before kind every other target on fk's table that sits
// beside kind in the same root's tree (neither above the other): rows of
// that table under the same parent records usually point at kind's rows
// (a ticket's history lines at its articles), so they go first and the
// foreign key finds nothing to refuse or cascade. This is an order, not a
// claim that the key is handled: the key must still be handled, or listed
// in Cascade, and the delete's own count guards it.
func (a *analysis) neighbours(kind erasure.Kind, fk sqldb.ForeignKey) {
	for _, s := range a.b.cfg.Specs {
		f := a.st.facts[s.Kind]
		if f == nil || s.Kind == kind || !strings.EqualFold(f.table.Name, fk.Table) {
			continue
		}
		if a.rootOf(s.Kind) == a.rootOf(kind) && !a.under(kind, s.Kind) && !a.under(s.Kind, kind) {
			a.order(s.Kind, kind, fmt.Sprintf("%s.%s references %s", fk.Table, strings.Join(fk.Columns, ","), fk.RefTable))
		}
	}
}

// order records that first must act before then.
func (a *analysis) order(first, then erasure.Kind, why string) {
	if a.after[then] == nil {
		a.after[then] = map[erasure.Kind]string{}
	}
	if _, ok := a.after[then][first]; !ok {
		a.after[then][first] = why
	}
}

// matches reports whether table.column is in patterns ("table",
// "table.column", "*.column", "table.*").
func matches(patterns []string, table string, cols []string) bool {
	for _, p := range patterns {
		t, c, hasCol := strings.Cut(p, ".")
		if t != "*" && !strings.EqualFold(t, table) {
			continue
		}
		if !hasCol || c == "*" {
			return true
		}
		for _, x := range cols {
			if strings.EqualFold(c, x) {
				return true
			}
		}
	}
	return false
}

// coverage reports foreign keys into a subject's table (a root's) that no
// target binds and the host did not list in Cascade or Ignore.
func (a *analysis) coverage() {
	done := map[string]bool{}
	for _, s := range a.b.cfg.Specs {
		f := a.st.facts[s.Kind]
		if f == nil || s.Parent != "" || s.SubjectColumn == "" || done[strings.ToLower(f.table.Name)] {
			continue
		}
		done[strings.ToLower(f.table.Name)] = true
		for _, fk := range a.schema.ReferencesTo(f.table.Name) {
			if a.bound(fk) || matches(a.b.cfg.Cascade, fk.Table, fk.Columns) {
				continue
			}
			if matches(a.b.cfg.Ignore, fk.Table, fk.Columns) {
				a.st.report.References = append(a.st.report.References, Reference{From: fk.Table + "." + strings.Join(fk.Columns, ","),
					To: fk.RefTable, OnDelete: fk.OnDelete, Ignored: true})
				continue
			}
			a.problem(Problem{Table: fk.Table, Column: strings.Join(fk.Columns, ","), Class: "coverage",
				Message: fmt.Sprintf("references the subjects' table %s, but no target binds it: bind it (SubjectColumn or ParentColumn %s), or list it in Ignore if it holds nothing about the person",
					fk.RefTable, strings.Join(fk.Columns, ","))})
		}
	}
}

// bound reports whether some target finds fk's rows through its columns.
func (a *analysis) bound(fk sqldb.ForeignKey) bool {
	for _, s := range a.b.cfg.Specs {
		f := a.st.facts[s.Kind]
		if f == nil || !strings.EqualFold(f.table.Name, fk.Table) {
			continue
		}
		for _, c := range fk.Columns {
			if strings.EqualFold(c, s.SubjectColumn) || strings.EqualFold(c, s.ParentColumn) {
				return true
			}
			for _, m := range s.Mentions {
				if strings.EqualFold(c, m) {
					return true
				}
			}
			for _, col := range s.Columns {
				if strings.EqualFold(c, col.Name) && (col.Action == Null || col.Action == Reassign) {
					return true
				}
			}
		}
	}
	for _, bs := range a.b.cfg.Blobs {
		for _, c := range fk.Columns {
			if strings.EqualFold(bs.Table, fk.Table) && strings.EqualFold(c, bs.ParentColumn) {
				return true
			}
		}
	}
	return false
}

// ruleChecks refuses rules under which a delete would cascade into, or be
// refused by, rows the graph anonymises or keeps.
func (a *analysis) ruleChecks() {
	for _, s := range a.b.cfg.Specs {
		f := a.st.facts[s.Kind]
		if f == nil || a.rules[s.Kind] != erasure.Delete {
			continue
		}
		for _, r := range f.refs {
			if !r.handled {
				continue
			}
			cols := strings.Join(r.fk.Columns, ",")
			for _, k := range r.by {
				hs := a.byKind[k]
				switch a.rules[k] {
				case erasure.Anonymize:
					if !clearsColumns(hs, r.fk.Columns) && r.fk.OnDelete != sqldb.SetNull {
						a.problem(Problem{Kind: k, Table: r.fk.Table, Column: cols, Class: "rule",
							Message: fmt.Sprintf("anonymising these rows keeps %s, which references %s rows that %s deletes (ON DELETE %s): set the column to Null in Columns, or delete these rows",
								cols, r.fk.RefTable, s.Kind, r.fk.OnDelete)})
					}
				case erasure.Keep:
					if !a.under(k, s.Kind) {
						a.problem(Problem{Kind: k, Table: r.fk.Table, Column: cols, Class: "rule",
							Message: fmt.Sprintf("keeping these rows while %s deletes the %s rows they reference (ON DELETE %s)", s.Kind, r.fk.RefTable, r.fk.OnDelete)})
					}
				}
			}
		}
	}
}

func clearsColumns(s *Spec, cols []string) bool {
	for _, c := range cols {
		ok := false
		for _, col := range s.Columns {
			if strings.EqualFold(col.Name, c) && (col.Action == Null || col.Action == Reassign) {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}
