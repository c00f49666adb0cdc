package mail

import (
	"errors"
	"fmt"
	"time"
)

// Account is an email to a member of staff about their own account: a lock
// after failed sign-ins, a new password, role or email address, or a change
// to two-step sign-in. ASVS 2.2.3 asks for one after every change to how a
// person signs in, so nobody — an administrator included — can change it
// without the person hearing of it. Like every email, it holds no case
// data, and it has no link to follow: the person signs in as usual.
type Account struct {
	Event         string    `json:"event"` // one of the Account… constants
	RecipientName string    `json:"recipient_name"`
	At            time.Time `json:"at"`
	// By names the administrator who made the change ("" when the person did).
	By       string    `json:"by,omitempty"`
	Until    time.Time `json:"until,omitzero"`      // locked: when the lock ends
	Failures int       `json:"failures,omitempty"`  // locked: failed attempts that locked it
	OldRole  string    `json:"old_role,omitempty"`  // role changed: from
	Role     string    `json:"role,omitempty"`      // role changed: to
	NewEmail string    `json:"new_email,omitempty"` // email changed (sent to the old address)
}

// Account events.
const (
	AccountLocked          = "locked"
	AccountPasswordChanged = "password-changed" // by the person
	AccountPasswordSet     = "password-set"     // by an administrator
	AccountRoleChanged     = "role-changed"
	AccountEmailChanged    = "email-changed"
	AccountMFAEnabled      = "mfa-enabled"
	AccountMFADisabled     = "mfa-disabled"
	AccountMFAReset        = "mfa-reset" // by an administrator
	AccountRecoveryCodes   = "recovery-codes"
)

type accountView struct {
	Subject       string
	RecipientName string
	Lead          string
	When          string
	By            string
	Advice        string
}

// RenderAccount renders an email about a person's own account.
func RenderAccount(a Account) (subject, text, html string, err error) {
	if a.At.IsZero() {
		return "", "", "", errors.New("mail: an account email needs At")
	}
	v := accountView{RecipientName: clean(a.RecipientName), When: formatDate(a.At) + " at " + clock(a.At) + " (UK time)", By: clean(a.By)}
	notYou := "If you did not expect this, tell the service desk at once."
	switch a.Event {
	case AccountLocked:
		if a.Until.IsZero() {
			return "", "", "", errors.New("mail: a lock needs Until")
		}
		v.Subject = "Your Throughgate account is locked until " + clock(a.Until)
		v.Lead = fmt.Sprintf("Someone failed to sign in to your Throughgate account %s, so it is locked until %s on %s.",
			times(a.Failures), clock(a.Until), formatDate(a.Until))
		v.Advice = "If it was you, wait until then and sign in as usual. If it was not you, tell the service desk: someone may be trying to guess your password."
	case AccountPasswordChanged:
		v.Subject = "Your Throughgate password was changed"
		v.Lead = "The password of your Throughgate account was changed, and your other sessions and personal access tokens were ended."
		v.Advice = notYou
	case AccountPasswordSet:
		v.Subject = "An administrator set your Throughgate password"
		v.Lead = "An administrator set a new password for your Throughgate account, and your sessions and personal access tokens were ended."
		v.Advice = "Ask the administrator for it if you need it. " + notYou
	case AccountRoleChanged:
		v.Subject = "An administrator changed your Throughgate role to " + clean(a.Role)
		v.Lead = fmt.Sprintf("Your role in Throughgate was changed from %s to %s, which changes what you can see and do.", clean(a.OldRole), clean(a.Role))
		v.Advice = notYou
	case AccountEmailChanged:
		v.Subject = "The email address of your Throughgate account was changed"
		v.Lead = fmt.Sprintf("The email address of your Throughgate account was changed to %s. This is the last email Throughgate sends to this address.", clean(a.NewEmail))
		v.Advice = notYou
	case AccountMFAEnabled:
		v.Subject = "Two-step sign-in was turned on for your Throughgate account"
		v.Lead = "An authenticator app was set up for your Throughgate account: signing in with your password now also asks for a code from it."
		v.Advice = notYou
	case AccountMFADisabled:
		v.Subject = "Two-step sign-in was turned off for your Throughgate account"
		v.Lead = "Two-step sign-in was turned off for your Throughgate account: signing in now needs only your password."
		v.Advice = notYou
	case AccountMFAReset:
		v.Subject = "An administrator reset two-step sign-in on your Throughgate account"
		v.Lead = "An administrator removed the authenticator app and recovery codes of your Throughgate account, and your sessions and personal access tokens were ended. You will set up an authenticator app again when you next sign in, if your role needs one."
		v.Advice = notYou
	case AccountRecoveryCodes:
		v.Subject = "New recovery codes were made for your Throughgate account"
		v.Lead = "New recovery codes were made for your Throughgate account; the old ones no longer work."
		v.Advice = notYou
	default:
		return "", "", "", fmt.Errorf("mail: unknown account event %q", a.Event)
	}
	text, html, err = execute("account", v)
	if err != nil {
		return "", "", "", err
	}
	return v.Subject, text, html, nil
}

func clock(t time.Time) string { return t.In(london).Format("15:04") }

func times(n int) string {
	switch n {
	case 0:
		return "several times"
	case 1:
		return "once"
	}
	return fmt.Sprintf("%d times", n)
}
