package authn

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"time"

	"github.com/gdprkit/gdprkit"
)

// Trusted-device tokens (OWASP's "device cookies"). A successful login
// returns LoginResult.DeviceToken; the host keeps it in a long-lived cookie
// and passes it back as LoginRequest.Device (and SecondFactorRequest.Device,
// StepUpRequest.Device). A valid token for the user being authenticated
// gives the attempt a failure counter of its own, which no outsider's
// failures raise, and exempts it from the source and account budgets: an
// attacker can slow down and lock clients without a token, never a device
// the user has logged in from before. The token is sealed with the key
// ring and bound to the account, the user and the time of the user's last
// password change; it grants no access by itself.
//
// Format: "d." + keyID + "." + base64url(seal(version | device ID (16) |
// issued (8, Unix µs) | user ID)).
const deviceVersion = 1

func deviceAAD(account gdprkit.AccountID) []byte {
	return []byte("gdprkit/authn/device\x00" + string(account))
}

// sealDevice returns a device token for user u; id is the device's ID to
// keep (from the token the client presented) or nil for a new device.
func (s *Service) sealDevice(account gdprkit.AccountID, u User, id []byte) string {
	if s.cfg.TrustedDeviceTTL < 0 {
		return ""
	}
	if len(id) != 16 {
		id = make([]byte, 16)
		if _, err := rand.Read(id); err != nil {
			panic("authn: crypto/rand failed: " + err.Error())
		}
	}
	pt := make([]byte, 0, 1+16+8+len(u.ID))
	pt = append(pt, deviceVersion)
	pt = append(pt, id...)
	pt = binary.BigEndian.AppendUint64(pt, uint64(s.clock.Now().UnixMicro()))
	pt = append(pt, u.ID...)
	kid, sealed := s.keys.seal(pt, deviceAAD(account))
	return "d." + kid + "." + base64.RawURLEncoding.EncodeToString(sealed)
}

// openDevice returns the device ID of token when it is a valid device token
// of user u: sealed for this account and user, issued after the user's last
// password change and within Config.TrustedDeviceTTL. Anything else is nil.
func (s *Service) openDevice(account gdprkit.AccountID, u User, token string) []byte {
	if token == "" || len(token) > 512 || s.cfg.TrustedDeviceTTL < 0 {
		return nil
	}
	rest, ok := strings.CutPrefix(token, "d.")
	if !ok {
		return nil
	}
	kid, body, ok := strings.Cut(rest, ".")
	if !ok {
		return nil
	}
	sealed, err := base64.RawURLEncoding.Strict().DecodeString(body)
	if err != nil {
		return nil
	}
	pt, err := s.keys.open(kid, sealed, deviceAAD(account))
	if err != nil || len(pt) < 1+16+8+1 || pt[0] != deviceVersion || string(pt[25:]) != u.ID {
		return nil
	}
	issued := time.UnixMicro(int64(binary.BigEndian.Uint64(pt[17:25])))
	now := s.clock.Now()
	if issued.Before(u.PasswordChangedAt.Truncate(time.Microsecond)) || !now.Before(issued.Add(s.cfg.TrustedDeviceTTL)) {
		return nil
	}
	return pt[1:17]
}

// deviceClient is the throttle client of a device ID: its hex, or "" for
// no trusted device.
func deviceClient(id []byte) string {
	if id == nil {
		return ""
	}
	return hex.EncodeToString(id)
}

// nameClient is the throttle client under which attempts on a username
// that names no user are counted.
func (s *Service) nameClient(account gdprkit.AccountID, name string) string {
	return "?" + hex.EncodeToString(s.keys.mac("gdprkit/authn/unknown-user", string(account), name)[:16])
}
