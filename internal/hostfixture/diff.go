package hostfixture

import (
	"fmt"
	"sort"
	"strings"
)

// Diff is what changed between two snapshots.
type Diff struct {
	// ByTable holds one entry per table with any difference, by table
	// name.
	ByTable []TableDiff
	// Files holds one entry per file deleted, added or changed, by path.
	Files []FileChange
}

// TableDiff is what changed in one table.
type TableDiff struct {
	// Table is the table name.
	Table string
	// Created is true when the table exists only in the second snapshot
	// (all its rows are then in Inserted), Dropped when only in the first
	// (all its rows in Deleted).
	Created, Dropped bool
	// ColumnsAdded and ColumnsDropped list columns present in only one of
	// the snapshots; rows are compared on the columns both have.
	ColumnsAdded, ColumnsDropped []string
	// Deleted are rows gone, by key. In a table without a primary key, a
	// row's Count is the number of copies that went.
	Deleted []Row
	// Inserted are rows that are new, by key (Count copies, as Deleted).
	Inserted []Row
	// Changed are rows whose key stayed and whose values changed. A table
	// without a primary key has no Changed: its rows are known only by
	// content, so a change shows as one row deleted and one inserted.
	Changed []RowChange
	// Keyless is true when the table has no primary key in the first
	// snapshot: a changed row then shows as one Deleted and one Inserted.
	Keyless bool
}

// RowChange is one row whose values changed.
type RowChange struct {
	// Key is the row's primary key ("id=5").
	Key string
	// Before and After are the whole row in each snapshot.
	Before, After Row
	// Columns are the changed columns, by name.
	Columns []ColumnChange
}

// ColumnChange is one changed value.
type ColumnChange struct {
	// Column is the column name.
	Column string
	// Before and After are its value in each snapshot.
	Before, After Value
}

// FileChange is one file that differs.
type FileChange struct {
	// Path is slash-separated and relative to the blob directory.
	Path string
	// Change is "deleted", "added" or "changed".
	Change string
	// Before and After are the hex SHA-256 of the content; "" where the file
	// does not exist.
	Before, After string
}

// Counts is how many rows (copies counted) one table lost, gained and
// changed.
type Counts struct {
	// Deleted, Inserted and Changed count rows; copies of a row in a table
	// without a primary key count one each.
	Deleted, Inserted, Changed int
}

// Compare returns what changed from before to after. A nil snapshot counts
// as empty. Neither snapshot is modified.
func Compare(before, after *Snapshot) *Diff {
	if before == nil {
		before = &Snapshot{}
	}
	if after == nil {
		after = &Snapshot{}
	}
	d := &Diff{}
	names := map[string]bool{}
	for n := range before.Tables {
		names[n] = true
	}
	for n := range after.Tables {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, n := range sorted {
		td := compareTable(n, before.Tables[n], after.Tables[n])
		if !td.empty() {
			d.ByTable = append(d.ByTable, td)
		}
	}
	for p, h := range before.Files {
		switch a, ok := after.Files[p]; {
		case !ok:
			d.Files = append(d.Files, FileChange{Path: p, Change: "deleted", Before: h})
		case a != h:
			d.Files = append(d.Files, FileChange{Path: p, Change: "changed", Before: h, After: a})
		}
	}
	for p, h := range after.Files {
		if _, ok := before.Files[p]; !ok {
			d.Files = append(d.Files, FileChange{Path: p, Change: "added", After: h})
		}
	}
	sort.Slice(d.Files, func(i, j int) bool { return d.Files[i].Path < d.Files[j].Path })
	return d
}

func compareTable(name string, b, a *Table) TableDiff {
	td := TableDiff{Table: name}
	switch {
	case b == nil:
		td.Created = true
		td.Inserted = a.Sorted()
		return td
	case a == nil:
		td.Dropped = true
		td.Deleted = b.Sorted()
		return td
	}
	td.Keyless = len(b.PrimaryKey) == 0
	bc, ac := setOf(b.Columns), setOf(a.Columns)
	for _, c := range a.Columns {
		if !bc[c] {
			td.ColumnsAdded = append(td.ColumnsAdded, c)
		}
	}
	for _, c := range b.Columns {
		if !ac[c] {
			td.ColumnsDropped = append(td.ColumnsDropped, c)
		}
	}
	var common []string
	for _, c := range b.Columns {
		if ac[c] {
			common = append(common, c)
		}
	}
	for _, br := range b.Sorted() {
		ar, ok := a.Rows[br.Key]
		switch {
		case !ok:
			td.Deleted = append(td.Deleted, br)
		case br.Count > ar.Count:
			r := br
			r.Count = br.Count - ar.Count
			td.Deleted = append(td.Deleted, r)
		case br.Count < ar.Count:
			r := ar
			r.Count = ar.Count - br.Count
			td.Inserted = append(td.Inserted, r)
		default:
			var cs []ColumnChange
			for _, c := range common {
				if bv, av := br.Get(c), ar.Get(c); bv != av {
					cs = append(cs, ColumnChange{Column: c, Before: bv, After: av})
				}
			}
			if len(cs) > 0 {
				td.Changed = append(td.Changed, RowChange{Key: br.Key, Before: br, After: ar, Columns: cs})
			}
		}
	}
	for _, ar := range a.Sorted() {
		if _, ok := b.Rows[ar.Key]; !ok {
			td.Inserted = append(td.Inserted, ar)
		}
	}
	sort.SliceStable(td.Inserted, func(i, j int) bool { return naturalLess(td.Inserted[i].Key, td.Inserted[j].Key) })
	return td
}

func setOf(ss []string) map[string]bool {
	m := make(map[string]bool, len(ss))
	for _, s := range ss {
		m[s] = true
	}
	return m
}

func (td TableDiff) empty() bool {
	return !td.Created && !td.Dropped && len(td.ColumnsAdded) == 0 && len(td.ColumnsDropped) == 0 &&
		len(td.Deleted) == 0 && len(td.Inserted) == 0 && len(td.Changed) == 0
}

// Counts returns the table's row counts.
func (td TableDiff) Counts() Counts {
	var c Counts
	for _, r := range td.Deleted {
		c.Deleted += r.Count
	}
	for _, r := range td.Inserted {
		c.Inserted += r.Count
	}
	c.Changed = len(td.Changed)
	return c
}

// ChangedColumns lists every column changed in any row, sorted.
func (td TableDiff) ChangedColumns() []string {
	seen := map[string]bool{}
	for _, rc := range td.Changed {
		for _, c := range rc.Columns {
			seen[c.Column] = true
		}
	}
	out := make([]string, 0, len(seen))
	for c := range seen {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// Empty reports whether nothing changed: no table, row or file.
func (d *Diff) Empty() bool { return len(d.ByTable) == 0 && len(d.Files) == 0 }

// Tables lists the tables with any difference, sorted.
func (d *Diff) Tables() []string {
	out := make([]string, len(d.ByTable))
	for i, td := range d.ByTable {
		out[i] = td.Table
	}
	return out
}

// Table returns the difference in one table; its zero value (with Table
// set) when the table did not change.
func (d *Diff) Table(name string) TableDiff {
	for _, td := range d.ByTable {
		if td.Table == name {
			return td
		}
	}
	return TableDiff{Table: name}
}

// Counts returns the row counts of every changed table, by name.
func (d *Diff) Counts() map[string]Counts {
	out := make(map[string]Counts, len(d.ByTable))
	for _, td := range d.ByTable {
		out[td.Table] = td.Counts()
	}
	return out
}

// FilesWith lists the paths of files with the given change ("deleted",
// "added" or "changed"), sorted.
func (d *Diff) FilesWith(change string) []string {
	var out []string
	for _, f := range d.Files {
		if f.Change == change {
			out = append(out, f.Path)
		}
	}
	return out
}

// Except returns the diff without the named tables (for instance the
// tables an operation is expected to change, leaving what must be Empty).
func (d *Diff) Except(tables ...string) *Diff {
	skip := setOf(tables)
	out := &Diff{Files: d.Files}
	for _, td := range d.ByTable {
		if !skip[td.Table] {
			out.ByTable = append(out.ByTable, td)
		}
	}
	return out
}

// maxLinesPerTable bounds how many rows String prints per table and kind.
const maxLinesPerTable = 40

// String renders the diff for a test failure: per table its counts, then
// "- key {row}" for deleted rows, "+ key {row}" for inserted ones and
// "~ key: col old -> new" for changed ones; then files. An empty diff is
// "no changes".
func (d *Diff) String() string {
	if d.Empty() {
		return "no changes"
	}
	var b strings.Builder
	for _, td := range d.ByTable {
		c := td.Counts()
		fmt.Fprintf(&b, "%s:", td.Table)
		switch {
		case td.Created:
			b.WriteString(" created;")
		case td.Dropped:
			b.WriteString(" dropped;")
		}
		fmt.Fprintf(&b, " %d deleted, %d inserted, %d changed\n", c.Deleted, c.Inserted, c.Changed)
		if len(td.ColumnsAdded) > 0 {
			fmt.Fprintf(&b, "  columns added: %s\n", strings.Join(td.ColumnsAdded, ", "))
		}
		if len(td.ColumnsDropped) > 0 {
			fmt.Fprintf(&b, "  columns dropped: %s\n", strings.Join(td.ColumnsDropped, ", "))
		}
		writeRows(&b, "-", td.Deleted)
		writeRows(&b, "+", td.Inserted)
		for i, rc := range td.Changed {
			if i == maxLinesPerTable {
				fmt.Fprintf(&b, "  ~ ... and %d more\n", len(td.Changed)-i)
				break
			}
			parts := make([]string, len(rc.Columns))
			for j, cc := range rc.Columns {
				parts[j] = fmt.Sprintf("%s %s -> %s", cc.Column, cc.Before, cc.After)
			}
			fmt.Fprintf(&b, "  ~ %s: %s\n", rc.Key, strings.Join(parts, "; "))
		}
	}
	if len(d.Files) > 0 {
		fmt.Fprintf(&b, "files: %d deleted, %d added, %d changed\n", len(d.FilesWith("deleted")), len(d.FilesWith("added")), len(d.FilesWith("changed")))
		for _, f := range d.Files {
			sign := map[string]string{"deleted": "-", "added": "+", "changed": "~"}[f.Change]
			fmt.Fprintf(&b, "  %s %s\n", sign, f.Path)
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func writeRows(b *strings.Builder, sign string, rows []Row) {
	for i, r := range rows {
		if i == maxLinesPerTable {
			fmt.Fprintf(b, "  %s ... and %d more\n", sign, len(rows)-i)
			return
		}
		fmt.Fprintf(b, "  %s %s %s\n", sign, r.Key, r.String())
	}
}
