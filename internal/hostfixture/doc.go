// Package hostfixture builds realistic helpdesk schemas that gdprkit did
// not write, fills them with deterministic data, and compares full
// before/after snapshots of every table and file, so erasure can be tested
// on a host the way a host would bind it.
//
// Two fixtures exist, each on SQLite, PostgreSQL and MySQL/MariaDB:
//
//   - Convo, a multi-tenant conversation inbox modelled on Chatwoot and
//     Zammad: one users table for contacts and staff, integer keys,
//     references to users that mostly CASCADE or SET NULL, a polymorphic
//     attachments table shared by messages and users, JSON recipients,
//     integer lists, drafts, private notes and assistant prompts.
//   - Restrict, a single-tenant ticket system modelled on Znuny/OTRS:
//     agents in users (referenced from nearly every table by
//     create_by/change_by), customers in customer_user referenced by login
//     string without foreign keys, every foreign key NO ACTION, key/value
//     sessions, base64 attachments and many tables without a primary key.
//
// Create makes a fixture's tables (and its installer's rows), Seed fills
// them and writes the files, and returns a Seeded that names the subjects
// and bystanders so tests never hard-code row IDs. TakeSnapshot and
// Compare give the exact difference an operation made. README.md
// describes both schemas table by table; schema/ holds the DDL per
// dialect, rendered from the Go model in *_schema.go.
//
// The package is internal test tooling: it is imported by tests (and by
// the binding guide's worked example), never by the library.
//
// convo_seed.go and restrict_seed.go are a little over 600 lines each and
// stay whole: each is the one deterministic script that fills its
// fixture, read top to bottom beside README.md's table list, and a split
// would hide the order rows are inserted in, which the foreign keys need.
package hostfixture
