package mail

import (
	"strings"
	"testing"
	"time"
)

// Issue 13's emails: to a partner agency with its one-time link, to a
// step's owner when the partner answers, and to the new owner of a step or
// case. Each says what it is about in the subject, holds only what its
// data holds (no field for a name, prison number or date of birth), and
// nothing in the data breaks a header or the HTML.

func TestRenderPartnerLink(t *testing.T) {
	exp := time.Date(2026, 7, 20, 13, 20, 0, 0, time.UTC) // 14:20 in London
	p := PartnerLink{PartnerName: "Islington housing options", CaseRef: "k3m9x2p7qa", StepTitle: "Housing: duty to refer",
		From: "Olu Officer", Team: "Pentonville resettlement", LinkURL: "https://throughgate.example.org/partner/abc", Expires: exp}
	subject, text, html, err := RenderPartnerLink(p)
	if err != nil {
		t.Fatal(err)
	}
	if subject != "Request for your answer: Housing: duty to refer, case k3m9x2p7qa" {
		t.Errorf("subject %q", subject)
	}
	for _, want := range []string{"Hello Islington housing options,", "Olu Officer (Pentonville resettlement)", "k3m9x2p7qa",
		"https://throughgate.example.org/partner/abc", "Mon 20 Jul 2026 at 14:20", "reference they gave you by phone", "only once"} {
		if !strings.Contains(text, want) || !strings.Contains(html, want) {
			t.Errorf("%q missing:\n%s\n%s", want, text, html)
		}
	}
	p.PartnerName, p.From = "Eve\r\nBcc: x@example.org", "<script>x</script>"
	_, text, html, err = RenderPartnerLink(p)
	if err != nil || strings.Contains(text, "\r\nBcc") || strings.Contains(html, "<script>") {
		t.Errorf("unsafe input: %v\n%s\n%s", err, text, html)
	}
	for _, bad := range []PartnerLink{{CaseRef: "c", StepTitle: "s", LinkURL: "javascript:alert(1)", Expires: exp},
		{StepTitle: "s", LinkURL: "https://x.example.org/p", Expires: exp}, {CaseRef: "c", StepTitle: "s", LinkURL: "https://x.example.org/p"}} {
		if _, _, _, err := RenderPartnerLink(bad); err == nil {
			t.Errorf("%+v rendered", bad)
		}
	}
}

func TestRenderPartnerAnswered(t *testing.T) {
	at := time.Date(2026, 7, 6, 13, 20, 0, 0, time.UTC)
	for _, c := range []struct{ answer, subject, lead string }{
		{PartnerAnswerDone, "Partner answered: Housing: duty to refer for case k3m9x2p7qa is done", "marked the step"},
		{PartnerAnswerWaiting, "Partner answered: Housing: duty to refer for case k3m9x2p7qa is still waiting", "left a note on the case"},
	} {
		subject, text, html, err := RenderPartnerAnswered(PartnerAnswered{RecipientName: "Olu Officer", CaseRef: "k3m9x2p7qa",
			StepTitle: "Housing: duty to refer", PartnerName: "Islington housing options", Answer: c.answer, At: at,
			CaseURL: "https://throughgate.example.org/cases/k3m9x2p7qa"})
		if err != nil || subject != c.subject {
			t.Errorf("%s: %q %v", c.answer, subject, err)
		}
		for _, want := range []string{c.lead, "Islington housing options", "14:20", "https://throughgate.example.org/cases/k3m9x2p7qa"} {
			if !strings.Contains(text, want) || !strings.Contains(html, want) {
				t.Errorf("%s: %q missing:\n%s", c.answer, want, text)
			}
		}
	}
	if _, _, _, err := RenderPartnerAnswered(PartnerAnswered{CaseRef: "c", StepTitle: "s", Answer: "maybe", At: at, CaseURL: "https://x.example.org"}); err == nil {
		t.Error("an unknown answer rendered")
	}
}

func TestRenderAssigned(t *testing.T) {
	at := time.Date(2026, 7, 6, 13, 20, 0, 0, time.UTC)
	due := time.Date(2026, 7, 10, 16, 0, 0, 0, time.UTC)
	subject, text, html, err := RenderAssigned(Assigned{RecipientName: "Ola Officer", CaseRef: "k3m9x2p7qa", StepTitle: "Benefits",
		Due: due, By: "Mo Manager", At: at, CaseURL: "https://throughgate.example.org/cases/k3m9x2p7qa"})
	if err != nil || subject != "Assigned to you: Benefits for case k3m9x2p7qa — due Fri 10 Jul 2026" {
		t.Fatalf("%q %v", subject, err)
	}
	for _, want := range []string{"Hello Ola Officer,", `Mo Manager gave you the step "Benefits" of case k3m9x2p7qa.`, "Fri 10 Jul 2026",
		"Open case k3m9x2p7qa", "these emails off"} {
		if want == "Open case k3m9x2p7qa" {
			if !strings.Contains(html, want) {
				t.Errorf("%q missing from the HTML", want)
			}
			continue
		}
		if !strings.Contains(text, want) || !strings.Contains(strings.ReplaceAll(html, "&#34;", `"`), want) {
			t.Errorf("%q missing:\n%s\n%s", want, text, html)
		}
	}
	subject, text, _, err = RenderAssigned(Assigned{CaseRef: "k3m9x2p7qa", Steps: []string{"Benefits", "ID documents"}, At: at,
		CaseURL: "https://throughgate.example.org/cases/k3m9x2p7qa"})
	if err != nil || subject != "Case k3m9x2p7qa assigned to you" || !strings.Contains(text, "Throughgate gave you case k3m9x2p7qa. 2 open steps went with it.") ||
		!strings.Contains(text, "  - ID documents") {
		t.Errorf("a case: %q %v\n%s", subject, err, text)
	}
	for _, bad := range []Assigned{{At: at, CaseURL: "https://x.example.org"}, {CaseRef: "c", CaseURL: "https://x.example.org"}, {CaseRef: "c", At: at, CaseURL: "/cases/c"}} {
		if _, _, _, err := RenderAssigned(bad); err == nil {
			t.Errorf("%+v rendered", bad)
		}
	}
	// A digest of assignments alone is a digest.
	subject, text, _, err = RenderDigestOf(Digest{RecipientName: "Ola", Day: at, Assigned: []Assigned{{CaseRef: "k3m9x2p7qa", StepTitle: "Benefits", At: at,
		CaseURL: "https://throughgate.example.org/cases/k3m9x2p7qa"}}})
	if err != nil || subject != "Daily summary for Mon 6 Jul 2026: 1 assigned to you" || !strings.Contains(text, "Assigned to you (1)") {
		t.Errorf("digest: %q %v\n%s", subject, err, text)
	}
}
