package mail

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// fixedNow pins "today" to Mon 30 Nov 2026, 10:00 in London.
func fixedNow(t *testing.T) time.Time {
	t.Helper()
	today := time.Date(2026, 11, 30, 10, 0, 0, 0, london)
	old := now
	now = func() time.Time { return today }
	t.Cleanup(func() { now = old })
	return today
}

func baseAlert() Alert {
	return Alert{
		Kind:          "reminder",
		CaseRef:       "1042",
		StepTitle:     "Housing: duty to refer",
		Due:           time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC),
		DaysToRelease: 9,
		Severity:      "high",
		Action:        "Make the referral to the person's chosen council.",
		CaseURL:       "https://throughgate.example/cases/c-7f3a",
		RecipientName: "Sam",
	}
}

func TestRenderAlertSubjects(t *testing.T) {
	today := fixedNow(t)
	day := func(offset int) time.Time { return today.AddDate(0, 0, offset) }

	cases := []struct {
		name string
		edit func(*Alert)
		want string
	}{
		{"due in 3 days", func(a *Alert) { a.Due = day(3) },
			"Due in 3 days: Housing: duty to refer for case 1042 — release in 9 days"},
		{"no release date", func(a *Alert) { a.Due = day(3); a.ReleaseUnknown = true },
			"Due in 3 days: Housing: duty to refer for case 1042 — no release date set"},
		{"a notice about the whole case", func(a *Alert) {
			a.Kind, a.StepTitle, a.Due, a.Headline = "notice", "", time.Time{}, "Steps waiting in the team queue"
			a.Steps = []string{"GP registration", "Bank account"}
		}, "Steps waiting in the team queue: case 1042 — release in 9 days"},
		{"a critical notice", func(a *Alert) {
			a.Kind, a.StepTitle, a.Headline, a.Severity = "notice", "", "No progress for two weeks", "critical"
		}, "[Critical] No progress for two weeks: case 1042 — release in 9 days"},
		{"due tomorrow", func(a *Alert) { a.Due = day(1) },
			"Due tomorrow: Housing: duty to refer for case 1042 — release in 9 days"},
		{"due today", func(a *Alert) { a.Due = day(0) },
			"Due today: Housing: duty to refer for case 1042 — release in 9 days"},
		{"due date at 23:30 London is still today", func(a *Alert) {
			a.Due = time.Date(2026, 11, 30, 23, 30, 0, 0, london)
		}, "Due today: Housing: duty to refer for case 1042 — release in 9 days"},
		{"due date as midnight UTC in summer is that London day", func(a *Alert) {
			a.Due = time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC)
			a.DaysToRelease = 200
		}, "Due in 183 days: Housing: duty to refer for case 1042 — release in 200 days"},
		{"overdue 1 day", func(a *Alert) { a.Due = day(-1); a.DaysOverdue = 1 },
			"Overdue 1 day: Housing: duty to refer for case 1042 — release in 9 days"},
		{"overdue 3 days", func(a *Alert) { a.Due = day(-3); a.DaysOverdue = 3 },
			"Overdue 3 days: Housing: duty to refer for case 1042 — release in 9 days"},
		{"past due but 0 working days overdue says today", func(a *Alert) { a.Due = day(-2) },
			"Due today: Housing: duty to refer for case 1042 — release in 9 days"},
		{"release tomorrow", func(a *Alert) { a.Due = day(0); a.DaysToRelease = 1 },
			"Due today: Housing: duty to refer for case 1042 — release tomorrow"},
		{"release today", func(a *Alert) { a.Due = day(0); a.DaysToRelease = 0 },
			"Due today: Housing: duty to refer for case 1042 — release today"},
		{"released yesterday", func(a *Alert) { a.Due = day(0); a.DaysToRelease = -1 },
			"Due today: Housing: duty to refer for case 1042 — released yesterday"},
		{"released 7 days ago", func(a *Alert) {
			a.StepTitle, a.Due, a.DaysToRelease = "Follow-up: first week", day(0), -7
		}, "Due today: Follow-up: first week for case 1042 — released 7 days ago"},
		{"escalation level 1", func(a *Alert) {
			a.Kind, a.Level, a.Due, a.DaysOverdue = "escalation", 1, day(-2), 2
		}, "Escalation: Overdue 2 days: Housing: duty to refer for case 1042 — release in 9 days"},
		{"escalation level 2", func(a *Alert) {
			a.Kind, a.Level, a.Due, a.DaysOverdue = "escalation", 2, day(-7), 7
		}, "Escalation to head of service: Overdue 7 days: Housing: duty to refer for case 1042 — release in 9 days"},
		{"critical reminder", func(a *Alert) {
			a.Severity, a.Due, a.DaysOverdue, a.DaysToRelease = "critical", day(-3), 3, 3
		}, "[Critical] Overdue 3 days: Housing: duty to refer for case 1042 — release in 3 days"},
		{"critical escalation level 2", func(a *Alert) {
			a.Kind, a.Level, a.Severity, a.Due, a.DaysOverdue, a.DaysToRelease = "escalation", 2, "critical", day(-8), 8, 2
		}, "[Critical] Escalation to head of service: Overdue 8 days: Housing: duty to refer for case 1042 — release in 2 days"},
		{"line breaks in a title cannot reach the header", func(a *Alert) {
			a.StepTitle, a.Due = "GP\r\nBcc: someone@evil.test", day(3)
		}, "Due in 3 days: GP Bcc: someone@evil.test for case 1042 — release in 9 days"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := baseAlert()
			tc.edit(&a)
			subject, text, html, err := RenderAlert(a)
			if err != nil {
				t.Fatal(err)
			}
			if subject != tc.want {
				t.Errorf("subject\n got %q\nwant %q", subject, tc.want)
			}
			if strings.ContainsAny(subject, "\r\n") {
				t.Errorf("subject has a line break: %q", subject)
			}
			if text == "" || html == "" {
				t.Error("empty body")
			}
		})
	}
}

func TestRenderAlertBodies(t *testing.T) {
	fixedNow(t)
	a := baseAlert()
	a.Kind, a.Level, a.DaysOverdue, a.Due = "escalation", 1, 3, time.Date(2026, 11, 27, 0, 0, 0, 0, london)
	a.StepTitle = `Housing <script>alert(1)</script>`
	a.Action = `Call the council & "chase" the referral.`
	a.CaseURL = `https://throughgate.example/cases/c-7f3a?tab=steps&x="y"`
	subject, text, html, err := RenderAlert(a)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Hello Sam,",
		"Housing <script>alert(1)</script> for case 1042 is overdue by 3 days, and has been escalated to you as team manager.",
		"Due:      Fri 27 Nov 2026 (3 days overdue)",
		"Release:  in 9 days",
		"Severity: High",
		`What needs to happen: Call the council & "chase" the referral.`,
		"Escalation emails cannot be turned off.",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	for _, line := range strings.Split(text, "\n") {
		if len(line) > 120 && !strings.HasPrefix(line, "https://") {
			t.Errorf("text line too long for a phone: %q", line)
		}
	}
	if strings.Contains(html, "<script>") {
		t.Errorf("HTML has an unescaped <script>:\n%s", html)
	}
	for _, want := range []string{
		"Housing &lt;script&gt;alert(1)&lt;/script&gt;",
		`Call the council &amp; &#34;chase&#34; the referral.`,
		`href="https://throughgate.example/cases/c-7f3a?tab=steps&amp;x=%22y%22"`,
		"<title>" + strings.ReplaceAll(strings.ReplaceAll(subject, "<", "&lt;"), ">", "&gt;") + "</title>",
		`name="viewport"`,
		"border-left:4px solid #f47738",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML lacks %q:\n%s", want, html)
		}
	}
	if strings.Contains(html, "ZgotmplZ") {
		t.Errorf("html/template rejected a value:\n%s", html)
	}
}

func TestRenderAlertRejectsBadInput(t *testing.T) {
	fixedNow(t)
	cases := map[string]func(*Alert){
		"unknown kind":          func(a *Alert) { a.Kind = "nag" },
		"reminder with level":   func(a *Alert) { a.Level = 1 },
		"escalation level 3":    func(a *Alert) { a.Kind, a.Level = "escalation", 3 },
		"escalation level 0":    func(a *Alert) { a.Kind = "escalation" },
		"unknown severity":      func(a *Alert) { a.Severity = "urgent" },
		"no case ref":           func(a *Alert) { a.CaseRef = " " },
		"no due date":           func(a *Alert) { a.Due = time.Time{} },
		"javascript URL":        func(a *Alert) { a.CaseURL = "javascript:alert(1)" },
		"relative URL":          func(a *Alert) { a.CaseURL = "/cases/1" },
		"negative days overdue": func(a *Alert) { a.DaysOverdue = -1 },
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			a := baseAlert()
			edit(&a)
			if _, _, _, err := RenderAlert(a); err == nil {
				t.Error("want an error")
			}
		})
	}
}

func TestRenderDigest(t *testing.T) {
	day := time.Date(2026, 12, 7, 8, 0, 0, 0, london)
	item := func(ref, sev string, dueOffset, overdue, release int) DigestItem {
		a := baseAlert()
		a.CaseRef, a.Severity, a.Due, a.DaysOverdue, a.DaysToRelease = ref, sev, day.AddDate(0, 0, dueOffset), overdue, release
		return a
	}
	items := []DigestItem{
		item("2001", "medium", 5, 0, 40),
		item("2002", "high", -3, 3, 20),
		item("2003", "critical", -1, 1, 3),
		item("2004", "low", 0, 0, 60),
		item("2005", "high", -5, 5, 10),
	}
	subject, text, html, err := RenderDigest("Sam", items, day)
	if err != nil {
		t.Fatal(err)
	}
	want := "[Critical] Daily summary for Mon 7 Dec 2026: 3 overdue, 1 due today, 1 coming up"
	if subject != want {
		t.Errorf("subject\n got %q\nwant %q", subject, want)
	}
	// Most urgent first within each group: critical, then nearest release.
	order := []string{"case 2003", "case 2005", "case 2002", "case 2004", "case 2001"}
	last := -1
	for _, ref := range order {
		i := strings.Index(text, ref)
		if i < 0 || i < last {
			t.Errorf("text order wrong at %s:\n%s", ref, text)
		}
		last = i
	}
	for _, want := range []string{"Overdue (3)", "Due today (1)", "Coming up (1)", "Due in 5 days (due Sat 12 Dec 2026)"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	if !strings.Contains(html, "1 critical") || strings.Contains(html, "ZgotmplZ") {
		t.Errorf("HTML:\n%s", html)
	}

	if _, _, _, err := RenderDigest("Sam", nil, day); !errors.Is(err, ErrEmptyDigest) {
		t.Errorf("empty digest: %v", err)
	}
	if _, _, _, err := RenderDigest("Sam", []DigestItem{{Kind: "reminder"}}, day); err == nil {
		t.Error("invalid item accepted")
	}
}

func TestRenderNoticeListsSteps(t *testing.T) {
	fixedNow(t)
	a := baseAlert()
	a.Kind, a.StepTitle, a.Due, a.Headline = "notice", "", time.Time{}, "Steps waiting in the team queue"
	a.Steps = []string{"GP registration", "Bank <account>"}
	_, text, html, err := RenderAlert(a)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "  - GP registration") || !strings.Contains(html, "<li>Bank &lt;account&gt;</li>") {
		t.Errorf("steps not listed:\n%s\n%s", text, html)
	}
	a.Headline = ""
	if _, _, _, err := RenderAlert(a); err == nil {
		t.Error("a notice without a headline rendered")
	}
}

// Every email that tells its reader they can turn it off in their settings
// links to the settings page, at the same public address as its case link
// (a path prefix kept), with nothing of the case or the reader in the link;
// those that cannot be turned off say so and link nowhere else.
func TestEmailsLinkToTheSettingsPage(t *testing.T) {
	fixedNow(t)
	for _, base := range []string{"https://throughgate.example", "https://gov.example/throughgate"} {
		settings := base + "/account"
		caseURL := base + "/cases/c-7f3a?tab=steps"
		alert := func(edit func(*Alert)) func() (string, string, error) {
			return func() (string, string, error) {
				a := baseAlert()
				a.CaseURL = caseURL
				edit(&a)
				_, text, html, err := RenderAlert(a)
				return text, html, err
			}
		}
		assigned := Assigned{RecipientName: "Sam", CaseRef: "1042", StepTitle: "GP registration", At: now(), CaseURL: caseURL}
		emails := []struct {
			name   string
			render func() (string, string, error)
			link   bool
		}{
			{"reminder", alert(func(*Alert) {}), true},
			{"escalation", alert(func(a *Alert) { a.Kind, a.Level, a.DaysOverdue = "escalation", 1, 2 }), false},
			{"notice", alert(func(a *Alert) { a.Kind, a.StepTitle, a.Headline = "notice", "", "Steps waiting in the team queue" }), false},
			{"digest of reminders", func() (string, string, error) {
				a := baseAlert()
				a.CaseURL = caseURL
				_, text, html, err := RenderDigest("Sam", []DigestItem{a}, now())
				return text, html, err
			}, true},
			{"digest of assignments only", func() (string, string, error) {
				_, text, html, err := RenderDigestOf(Digest{RecipientName: "Sam", Day: now(), Assigned: []Assigned{assigned}})
				return text, html, err
			}, true},
			{"assigned", func() (string, string, error) {
				_, text, html, err := RenderAssigned(assigned)
				return text, html, err
			}, true},
		}
		for _, e := range emails {
			t.Run(base+" "+e.name, func(t *testing.T) {
				text, html, err := e.render()
				if err != nil {
					t.Fatal(err)
				}
				if got := strings.Contains(text, "settings"); got != e.link {
					t.Fatalf("mentions settings: %t, want %t:\n%s", got, e.link, text)
				}
				if !e.link {
					if strings.Contains(text+html, "/account") {
						t.Errorf("links to the settings though it cannot be turned off:\n%s", text)
					}
					return
				}
				if !strings.Contains(text, "\n"+settings+"\n") {
					t.Errorf("text lacks the link %s on a line of its own:\n%s", settings, text)
				}
				if !strings.Contains(html, `<a href="`+settings+`" style="color:#1d70b8;">your`) {
					t.Errorf("HTML lacks a link to %s:\n%s", settings, html)
				}
				if strings.Contains(text, settings+"?") || strings.Contains(html, settings+"?") {
					t.Errorf("the settings link carries a query")
				}
			})
		}
	}
}
