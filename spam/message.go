package spam

import (
	"fmt"
)

// Class is what a message is trained as.
type Class int8

// String returns "none", "ham" or "spam".
func (c Class) String() string {
	switch c {
	case Ham:
		return "ham"
	case Spam:
		return "spam"
	case None:
		return "none"
	}
	return fmt.Sprintf("Class(%d)", int(c))
}

// Verdict is the outcome of classifying a message.
type Verdict int8

// String returns "ham", "unsure" or "spam".
func (v Verdict) String() string {
	switch v {
	case VerdictHam:
		return "ham"
	case VerdictUnsure:
		return "unsure"
	case VerdictSpam:
		return "spam"
	}
	return fmt.Sprintf("Verdict(%d)", int(v))
}

// Message is what the filter reads: a raw e-mail, or the subject and text
// of a chat message or ticket.
type Message struct {
	// Raw is a whole RFC 5322 message, headers and body. When set, Subject
	// and Text are ignored. The filter reads it without copying: it must
	// not change while a call that was given it runs.
	Raw []byte
	// Subject is a ticket's subject (optional).
	Subject string
	// Text is a chat message or ticket body, as plain text.
	Text string
}

// Email returns the Message for a raw RFC 5322 e-mail.
func Email(raw []byte) Message { return Message{Raw: raw} }

// Chat returns the Message for a plain-text chat message.
func Chat(text string) Message { return Message{Text: text} }

func (m Message) empty() bool { return len(m.Raw) == 0 && m.Subject == "" && m.Text == "" }
