package mail

import (
	"strings"
	"testing"
	"time"
)

// Emails about a person's own account: each event has its own subject and
// says when, who (for an administrator's change) and what to do if it was
// not expected; nothing in the data can break a header or the layout.
func TestRenderAccount(t *testing.T) {
	at := time.Date(2026, 7, 6, 13, 20, 0, 0, time.UTC) // 14:20 in London (BST)
	for _, c := range []struct {
		a    Account
		subj string
		body []string
	}{
		{Account{Event: AccountLocked, RecipientName: "Olu", At: at, Until: at.Add(15 * time.Minute), Failures: 10},
			"Your Throughgate account is locked until 14:35", []string{"10 times", "14:35", "Mon 6 Jul 2026"}},
		{Account{Event: AccountPasswordSet, RecipientName: "Olu", At: at, By: "Ade Admin"},
			"An administrator set your Throughgate password", []string{"Ade Admin", "14:20"}},
		{Account{Event: AccountPasswordChanged, At: at}, "Your Throughgate password was changed", []string{"Hello,"}},
		{Account{Event: AccountRoleChanged, At: at, By: "Ade Admin", OldRole: "officer", Role: "manager"},
			"An administrator changed your Throughgate role to manager", []string{"from officer to manager"}},
		{Account{Event: AccountEmailChanged, At: at, By: "Ade Admin", NewEmail: "olu@new.example.org"},
			"The email address of your Throughgate account was changed", []string{"olu@new.example.org"}},
		{Account{Event: AccountMFAEnabled, At: at}, "Two-step sign-in was turned on for your Throughgate account", nil},
		{Account{Event: AccountMFADisabled, At: at}, "Two-step sign-in was turned off for your Throughgate account", nil},
		{Account{Event: AccountMFAReset, At: at, By: "Ade Admin"}, "An administrator reset two-step sign-in on your Throughgate account", []string{"Ade Admin"}},
		{Account{Event: AccountRecoveryCodes, At: at}, "New recovery codes were made for your Throughgate account", nil},
	} {
		subject, text, html, err := RenderAccount(c.a)
		if err != nil {
			t.Fatalf("%s: %v", c.a.Event, err)
		}
		if subject != c.subj {
			t.Errorf("%s: subject %q, want %q", c.a.Event, subject, c.subj)
		}
		for _, want := range append(c.body, "service desk") {
			if !strings.Contains(text, want) || !strings.Contains(html, want) {
				t.Errorf("%s: %q missing:\n%s\n%s", c.a.Event, want, text, html)
			}
		}
	}
	_, text, html, err := RenderAccount(Account{Event: AccountPasswordSet, At: at, By: "Eve\r\nBcc: x@example.org <b>"})
	if err != nil || strings.Contains(text, "\r\nBcc") || strings.Contains(html, "<b>") {
		t.Errorf("unsafe name: %v\n%s\n%s", err, text, html)
	}
	for _, bad := range []Account{{Event: "party", At: at}, {Event: AccountLocked, At: at}, {Event: AccountPasswordSet}} {
		if _, _, _, err := RenderAccount(bad); err == nil {
			t.Errorf("%+v rendered", bad)
		}
	}
}
