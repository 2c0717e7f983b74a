// Package staffaccess lets the vendor's staff see a customer account's data
// only under a grant the account approved, and records every access in a
// trail the account can read and nobody can edit unseen.
//
// # Grants
//
// A grant names one vendor staff member, one account, a purpose and an end
// (Until, at most Config.MaxDuration ahead). The vendor asks (Request);
// the account's owner or an admin approves or refuses (Approve, Refuse —
// gdprkit roles: an agent cannot decide, nor can the vendor decide its own
// request); the account or the vendor may revoke it at any time (Revoke);
// it ends by itself when the clock passes Until (no sweeper is needed:
// StatusAt reports it as expired and Access refuses it).
//
// # Access
//
// Access is the one door: it checks for a live grant and appends the
// access (who, what, when, which grant) to the account's trail in the same
// atomic step, serialised with every change to the account's grants by a
// lock on the trail's head, and reading the grant as it stands once the
// lock is held. So an access either happened before a revocation committed
// or is refused: none is let through after Revoke returned, and none goes
// unrecorded. Without a live grant it returns an error wrapping ErrNoGrant
// and gdprkit.ErrForbidden. Check answers the same question without
// recording anything. Middleware puts Access in front of a host's support
// tooling (net/http); the host says how to read the staff member and the
// account from a request.
//
// # Evidence
//
// Every request, decision, revocation and access is one entry of the
// account's append-only trail. Each entry's hash is SHA-256 over the
// previous entry's hash and the entry's canonical fields, so Verify
// detects an entry edited, removed or reordered, and it also checks that
// every stored grant is exactly what its last trail entry says. Trail
// answers "show me who at the vendor saw this customer's data and who
// approved it" in one call: every grant with who asked and who decided,
// every access with the approver of the grant it used, and the
// verification.
//
// # Account deletion
//
// When the account is deleted, its grants and trail go with it
// (DeleteAccount, wired into the one account-deletion path by kitdata's
// StaffAccessTarget on the erasure graph): the trail answers the
// account's question and names the vendor's staff and the account's
// approvers by actor ID, so it ends with the account; an account that
// needs it longer exports it (Trail) first.
package staffaccess
