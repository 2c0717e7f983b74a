package gdprkit

import "fmt"

// Role is a user's place in an account's hierarchy:
// owner > admin > agent > end user.
type Role int

// The roles, lowest first. The zero value is RoleNone, which outranks nobody.
const (
	RoleNone Role = iota
	RoleEndUser
	RoleAgent
	RoleAdmin
	RoleOwner
)

var roleNames = [...]string{"none", "end_user", "agent", "admin", "owner"}

// String returns the role's stable lower-case name ("owner", "end_user", …).
func (r Role) String() string {
	if r < 0 || int(r) >= len(roleNames) {
		return fmt.Sprintf("role(%d)", int(r))
	}
	return roleNames[r]
}

// ParseRole is the inverse of Role.String; unknown names wrap ErrInvalid.
func ParseRole(s string) (Role, error) {
	for i, n := range roleNames {
		if n == s && i != 0 {
			return Role(i), nil
		}
	}
	return RoleNone, fmt.Errorf("%w: unknown role %q", ErrInvalid, s)
}

// Valid reports whether r is one of the four real roles.
func (r Role) Valid() bool { return r >= RoleEndUser && r <= RoleOwner }

// Outranks reports whether r is strictly above other in the hierarchy.
func (r Role) Outranks(other Role) bool { return r.Valid() && r > other }

// AtLeast reports whether r is other or above.
func (r Role) AtLeast(other Role) bool { return r.Valid() && r >= other }
