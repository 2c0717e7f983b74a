// Package processing generates the record of processing activities that
// GDPR Art. 30 asks every controller and processor to keep, from what
// gdprkit already knows rather than from a document someone types and
// forgets to update.
//
// Generate (or Generator.Generate) answers a supervisory authority's "show
// me your record of processing" for one account in one call, as a Record:
//
//   - controller and processor with their contacts (Art. 30(1)(a),
//     30(2)(a)): the account's controller from Config.Controller, the
//     processor (the vendor running the helpdesk) from Config.Processor;
//   - purposes and their legal bases (30(1)(b)): every consent purpose of
//     the account (package consent) with its current and material policy
//     version, plus the purposes the host declares (contract, legal
//     obligation, legitimate interest);
//   - categories of data subjects and of personal data (30(1)(c)): every
//     kind of the erasure graph, grouped by the data categories its
//     target declares (erasure.TargetInfo.Categories), with what an
//     erasure request does to it;
//   - recipients (30(1)(d)): the declared sub-processors with their
//     purpose, region, agreement and transfer mechanism, and the recipients
//     the erasure engine notifies of every erasure (Art. 19), matched by
//     name;
//   - transfers to third countries (30(1)(e), 30(2)(c)): every recipient
//     outside the EEA with its safeguard;
//   - time limits for erasure (30(1)(f)): the account lifecycle's timers
//     (package retention: 14-day trial, more than 7 days of failing
//     billing, 60-day lift window, deletion 30 days after termination,
//     backups 30 days more), the account's retention rules, and how long
//     erased data survives in backups;
//   - technical and organisational measures (30(1)(g), 30(2)(d), Art. 32):
//     second factor (TOTP) availability and enforcement, argon2id password
//     hashing, TOTP secrets encrypted at rest (from the authn service's
//     effective settings, AuthnMeasures), the account's IP allow
//     lists (package ipfilter), gdprkit's own pseudonymised receipts and
//     hash-chained consent records, and what the host declares (audit log,
//     backups, staff training).
//
// A Record encodes as JSON (its fields carry tags) and renders as Markdown
// (Record.Markdown) and as an HTML page (Record.WriteHTML, escaped by
// html/template).
//
// # Every kind has a category
//
// New refuses a graph in which any kind declares no data category: a table
// bound to the erasure graph without saying what it holds would make the
// record silently incomplete. Check is the same test as a function, for a
// host's own unit test ("a test fails when a bound kind has no declared
// data category"). Blob targets declare attachments themselves
// (erasure.BlobTarget; sqltarget.BlobSpec.Categories overrides it); kinds
// whose target has no field for categories (a host's own code) are given
// theirs in Config.Categories.
//
// # Choices made where the issue is silent
//
//   - The package reads through small interfaces that the gdprkit services
//     already satisfy (*erasure.Service, *consent.Service,
//     *retention.Service, *retention.Schedules, *ipfilter.Filter), so it
//     never imports store/... and a host passes its services as they are.
//   - What only the host can know (who the controller is, the
//     sub-processors and their agreements, measures outside gdprkit) is
//     declared in Config and validated by New: a sub-processor outside the
//     EEA without a transfer mechanism is a configuration error, not a
//     line in a report.
//   - Inconsistencies the record can show but not fix are listed in
//     Record.Issues: a recipient notified of erasures that is not declared
//     (purpose, region and agreement unknown), a declared sub-processor
//     the erasure engine does not notify (Art. 19), a consent purpose
//     without a published policy text, an account without a controller.
//   - Countries are ISO 3166-1 alpha-2 codes; the EEA is the 27 EU member
//     states plus Iceland, Liechtenstein and Norway ("EU" and "EEA" are
//     accepted for processing spread over several member states).
//     Adequacy decisions are not built in: they change; the host names
//     the mechanism ("adequacy decision", "SCCs 2021/914 module 3").
//   - The record shows counts of IP rules, never the addresses or their
//     notes, and no personal data of anyone: it describes processing, it
//     does not contain it.
package processing
