// Package sqltarget binds a host's existing SQL tables to the erasure
// cascade declaratively, and checks the binding against the live
// database before anything is written.
//
// docs/binding-an-existing-schema.md is the guide, with the bindings of two
// schemas nobody here wrote as worked examples; cmd/gdprkit-bindcheck runs
// the same check on a JSON binding (LoadConfig) in a host's CI.
//
// A host describes each table it wants erased as a Spec — the table, its
// key, the column that links a row to its subject (a root) or to its
// parent record (a child), row filters, and per column what anonymisation
// does — and calls Bind once with all of them. Bind reads the database's
// own schema (package sqldb: columns with types, nullability and length,
// keys, foreign keys with their ON DELETE and ON UPDATE actions, views)
// and refuses the binding whole, with one error per hazard naming the
// table, column and graph path, when:
//
//   - an action cannot fit its column (a pseudonym into an integer key,
//     NULL into a NOT NULL column, a label longer than the column);
//   - a delete would be refused by a foreign key (NO ACTION, RESTRICT)
//     from rows no target handles first, or would cascade into, or set
//     NULL in, rows the graph anonymises, keeps or does not bind — unless
//     the host lists that reference in Config.Cascade, where the database
//     does the work by itself and the plan and receipt count it;
//   - a foreign key into a subject's table (a root's table) is bound by no
//     target and not listed in Config.Ignore: the coverage report ("you
//     forgot table X");
//   - the order the foreign keys demand has a cycle.
//
// Bind also derives the order: a target whose rows reference rows another
// target deletes gets to act first (erasure.TargetInfo.After), so a
// history row goes before the message it points at, whatever the kinds
// are called. The same checks run again, with the request's own rules,
// before every plan and job (erasure.Caps.Check): a schema migration
// between jobs, or rules that would turn a cascade against kept data, are
// refused before any write.
//
// At run time every delete is one transaction per batch: it counts the
// rows that reference the batch through each foreign key — rows a target
// should already have handled must be gone, or the batch is refused and
// nothing changes; rows the database will cascade are counted as the
// receipt's Cascaded lines — then deletes, checks the rows affected, and
// checks that declared cascades really happened (SQLite applies foreign
// keys only with PRAGMA foreign_keys=ON). Anonymising is one UPDATE per
// batch, or one transaction of per-row UPDATEs for the actions computed in
// Go (JSON paths, list elements, free-text redaction).
//
// Shapes of helpdesks nobody here wrote:
//
//   - one users table for agents and contacts, integer keys: integer key,
//     subject, parent and reassign columns are detected from the schema
//     and bound as integers; subjects of several kinds (a customer keyed
//     by a login string, an agent by an integer) are told apart by the
//     erasure Directory's classes (Spec.Classes);
//   - a row that must stay because others reference it is anonymised in
//     place: Spec.Marker names a column (erased_at, deleted) that
//     anonymising sets and Find skips, so the key never changes;
//   - polymorphic type+id links: Spec.Where filters rows by constant
//     predicates (model_type = 'message') in every statement;
//   - predicates through a join ("open tickets only"): Spec.Filter is a
//     parameterised SQL predicate over the table, checked at Bind;
//   - key/value rows and tables without a primary key: Key need not be
//     unique; a record is every row sharing the key (a session's rows),
//     found through the row that names the owner (Spec.FindWhere), and
//     deleted and exported as a group; a table without a key binds
//     through its parent column (Key = ParentColumn);
//   - JSON and array columns: RemoveJSON, ReplaceJSON and RemoveElement
//     take the subject's identifiers out of other rows (recipients in a
//     JSON column, a list of user IDs), found by Spec.Mentions; Redact
//     replaces them in free text others wrote (signatures, quoted
//     replies), opt-in per column and shown in the plan first;
//   - views: a Spec may name a view; it has no foreign keys to check.
//
// Exports write every column but Spec.NoExport, rows matching
// Spec.ExportWhere only (drafts and private notes stay out), JSON columns
// as JSON and arrays as JSON arrays; Spec.NoExportKind keeps a kind out.
//
// Choices made here: every statement is parameterised, and names the
// tenant column when the spec has one (a host with one database per tenant
// leaves it empty); Find orders by the key (children by parent, then key)
// and pages with a keyset cursor; a batch is deleted or updated with one
// statement ("… WHERE key IN (…)", an array parameter on PostgreSQL), never
// one round trip per row, except where the value is computed per row in
// Go. Binding.WithTx runs every statement inside the host's own
// transaction, with savepoints where a batch must be atomic.
package sqltarget
