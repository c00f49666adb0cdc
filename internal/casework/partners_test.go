package casework

import (
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	tgmail "github.com/throughgate/throughgate/internal/mail"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/internal/postgres/pgtest"
	"github.com/throughgate/throughgate/resettlement"
)

// Issue 13: consent, partner links and assignment emails, through the
// service with a fake engine (engine_test.go) applying the domain's
// commands to the read model.

const partnerEmail = "housing.options@islington.example.org"

// waitingCase opens a case at PVI whose housing referral waits on the
// council, owned by officer-1.
func (f *fixture) waitingCase(id string) {
	f.t.Helper()
	f.withEngine()
	f.s.BaseURL = "https://throughgate.example.org"
	f.readModelCase(id, openReq("A1111AA"))
	f.actOK("manager-1", id, "own-"+id, Assign{StepID: resettlement.StepHousingReferral, Owner: resettlement.Owner{Staff: "officer-1", Team: "pvi-resettlement"}})
	f.actOK("officer-1", id, "wait-"+id, ActOnStep{StepID: resettlement.StepHousingReferral, Action: resettlement.ActionWaiting,
		Note: "Referred to Islington; waiting for their decision."})
}

// consent records the person's consent to a purpose.
func (f *fixture) consent(caseID, purpose, key string) postgres.Consent {
	f.t.Helper()
	c, _, err := f.s.RecordConsent(f.ctx, f.as("officer-1"), caseID, key, RecordConsent{Purpose: purpose})
	if err != nil {
		f.t.Fatalf("consent %s: %v", purpose, err)
	}
	return c
}

// sendLink sends Islington's housing options a link to the case's housing
// referral, returning what the officer is told and the link's token (from
// the email).
func (f *fixture) sendLink(caseID, key string) (SentPartnerLink, string) {
	f.t.Helper()
	sent, created, err := f.s.SendPartnerLink(f.ctx, f.as("officer-1"), caseID, key, SendPartnerLink{StepID: resettlement.StepHousingReferral,
		PartnerName: "Islington housing options", PartnerEmail: partnerEmail, Ask: "Has Sam Example's referral been accepted, and when can they be seen?"})
	if err != nil || !created {
		f.t.Fatalf("send a link: %v (created %v)", err, created)
	}
	var token string
	for _, r := range f.emails(caseID, partnerEmail) {
		if r.AlarmKey == "partner-link:"+sent.Link.ID {
			var p tgmail.PartnerLink
			if err := json.Unmarshal(r.Data, &p); err != nil {
				f.t.Fatal(err)
			}
			u, err := url.Parse(p.LinkURL)
			if err != nil {
				f.t.Fatal(err)
			}
			token = strings.TrimPrefix(u.Path, "/partner/")
		}
	}
	if !ValidLinkToken(token) {
		f.t.Fatalf("no link in the partner's email (token %q)", token)
	}
	return sent, token
}

// noPersonalData checks an email carries nothing that identifies the person.
func noPersonalData(t *testing.T, what string, data []byte) {
	t.Helper()
	for _, pd := range []string{"Sam", "Example", "A1111AA", "1990", "17 May", "Has Sam"} {
		if strings.Contains(string(data), pd) {
			t.Errorf("%s carries %q: %s", what, pd, data)
		}
	}
}

func TestPartnerLinkNeedsConsentAndAWaitingStep(t *testing.T) {
	f := newFixture(t)
	f.waitingCase("partnercase1")
	send := func(step, key string) error {
		_, _, err := f.s.SendPartnerLink(f.ctx, f.as("officer-1"), "partnercase1", key, SendPartnerLink{StepID: step,
			PartnerName: "Islington housing options", PartnerEmail: partnerEmail, Ask: "Accepted?"})
		return err
	}
	wantFieldError(t, send(resettlement.StepHousingReferral, "l1"), Invalid, "consent")
	f.consent("partnercase1", PurposeHousingReferral, "c1")
	// Only from a step that waits on another agency.
	if err := send(resettlement.StepBenefits, "l2"); Status(err) != 409 {
		t.Errorf("a link from a step not waiting: %v", err)
	}
	if err := send("no-such-step", "l3"); Status(err) != 404 {
		t.Errorf("a link from no step: %v", err)
	}
	// What the officer types is checked, each field named.
	_, _, err := f.s.SendPartnerLink(f.ctx, f.as("officer-1"), "partnercase1", "l4", SendPartnerLink{StepID: resettlement.StepHousingReferral,
		PartnerName: " ", PartnerEmail: "Islington <x@example.org>", Ask: ""})
	e := wantFieldError(t, err, Invalid, "partner_name")
	if len(e.Fields) != 3 {
		t.Errorf("fields %+v", e.Fields)
	}
	// A named partner's consent is theirs only.
	_, _, err = f.s.SendPartnerLink(f.ctx, f.as("officer-1"), "partnercase1", "l5", SendPartnerLink{StepID: resettlement.StepHousingReferral,
		PartnerName: "Islington housing options", PartnerEmail: partnerEmail, Ask: "x", Purpose: "partner:Camden"})
	wantFieldError(t, err, Invalid, "purpose")
	// Someone who cannot see the case learns nothing.
	if _, _, err := f.s.SendPartnerLink(f.ctx, f.as("officer-2"), "partnercase1", "l6", SendPartnerLink{StepID: resettlement.StepHousingReferral,
		PartnerName: "x", PartnerEmail: partnerEmail, Ask: "x"}); Status(err) != 404 {
		t.Errorf("another prison's officer: %v", err)
	}
	if err := send(resettlement.StepHousingReferral, "l7"); err != nil {
		t.Errorf("with consent and a waiting step: %v", err)
	}
}

func TestPartnerLinkWorksOnceWithTheReference(t *testing.T) {
	f := newFixture(t)
	f.waitingCase("partnercase2")
	f.consent("partnercase2", PurposeHousingReferral, "c1")
	sent, token := f.sendLink("partnercase2", "l1")
	if len(sent.Reference) != 9 || sent.Link.State != LinkOpen || !sent.Link.ExpiresAt.Equal(testNow.Add(14*24*time.Hour)) {
		t.Fatalf("sent %+v", sent)
	}
	// The email names the case, the step and who asks; no personal data,
	// not what was asked, not the reference.
	mails := f.emails("partnercase2", partnerEmail)
	if len(mails) != 1 || mails[0].Kind != tgmail.KindPartnerLink {
		t.Fatalf("partner emails %+v", mails)
	}
	noPersonalData(t, "the partner's email", mails[0].Data)
	if strings.Contains(string(mails[0].Data), sent.Reference) || strings.Contains(string(mails[0].Data), "accepted") {
		t.Errorf("the email carries the reference or the ask: %s", mails[0].Data)
	}
	// A retry sends nothing more and shows no reference.
	again, created, err := f.s.SendPartnerLink(f.ctx, f.as("officer-1"), "partnercase2", "l1", SendPartnerLink{StepID: resettlement.StepHousingReferral,
		PartnerName: "Islington housing options", PartnerEmail: partnerEmail, Ask: "Has Sam Example's referral been accepted, and when can they be seen?"})
	if err != nil || created || again.Reference != "" || again.Link.ID != sent.Link.ID || len(f.emails("partnercase2", partnerEmail)) != 1 {
		t.Fatalf("retry: %+v %v %v", again, created, err)
	}

	// The page: the case reference, the step, what is asked; no name yet.
	pg, err := f.s.PartnerView(f.ctx, token, "198.51.100.7")
	if err != nil || pg.CaseRef != "partnercase2" || pg.StepTitle != "Housing: duty to refer" || !strings.Contains(pg.Ask, "accepted") || pg.PersonName != "" {
		t.Fatalf("view %+v %v", pg, err)
	}
	if _, err := f.s.PartnerView(f.ctx, strings.Repeat("A", 43), "198.51.100.7"); Status(err) != 404 {
		t.Errorf("an unknown token: %v", err)
	}
	// A wrong reference is counted; the right one shows the person's name.
	if _, err := f.s.PartnerReference(f.ctx, token, "198.51.100.7", "AAAA-AAAA"); err == nil {
		t.Fatal("a wrong reference was taken")
	} else {
		wantFieldError(t, err, Invalid, "reference")
	}
	pg, err = f.s.PartnerReference(f.ctx, token, "198.51.100.7", strings.ToLower(strings.ReplaceAll(sent.Reference, "-", " ")))
	if err != nil || pg.PersonName != "Sam Example" {
		t.Fatalf("the right reference, as typed loosely: %+v %v", pg, err)
	}
	// The answer needs the reference again; "still waiting" needs a note.
	_, err = f.s.PartnerAnswerStep(f.ctx, token, "198.51.100.7", "", PartnerAnswer{Answer: tgmail.PartnerAnswerDone})
	wantFieldError(t, err, Invalid, "reference")
	_, err = f.s.PartnerAnswerStep(f.ctx, token, "198.51.100.7", sent.Reference, PartnerAnswer{Answer: tgmail.PartnerAnswerWaiting})
	wantFieldError(t, err, Invalid, "note")
	_, err = f.s.PartnerAnswerStep(f.ctx, token, "198.51.100.7", sent.Reference, PartnerAnswer{Answer: tgmail.PartnerAnswerDone,
		Note: "Accepted: prevention duty owed, first appointment booked."})
	if err != nil {
		t.Fatalf("answer: %v", err)
	}
	if st := f.stepOf("partnercase2", resettlement.StepHousingReferral); st.Status != resettlement.StepDone {
		t.Errorf("the step is %s after the partner's answer", st.Status)
	}
	// Through the service, as partner:<link id>, audited; the note kept as notes are.
	actor := resettlement.PartnerActor + sent.Link.ID
	acts := f.auditLines("case.ActOnStep", "partnercase2")
	if len(acts) == 0 || acts[0].Actor != actor || !strings.Contains(acts[0].Detail, "action=complete ok") || acts[0].Remote != "198.51.100.7" {
		t.Errorf("the answer's audit line: %+v", acts)
	}
	if n := pgtest.Int(t, f.s.DB, `select count(*) from notes where case_id = 'partnercase2' and author = $1 and body like 'Accepted:%'`, actor); n != 1 {
		t.Errorf("%d notes by the partner", n)
	}
	names, err := f.s.StaffNames(f.ctx, []string{actor})
	if err != nil || names[actor] != "Islington housing options (partner)" {
		t.Errorf("the history names the partner %q (%v)", names[actor], err)
	}
	// The owner is told, with no personal data.
	told := f.emails("partnercase2", "olu@pvi.example.org")
	var answered []postgres.OutboxRow
	for _, r := range told {
		if r.Kind == tgmail.KindPartnerAnswered {
			answered = append(answered, r)
		}
	}
	if len(answered) != 1 {
		t.Fatalf("the owner's emails %+v", told)
	}
	noPersonalData(t, "the owner's email", answered[0].Data)
	// Once only.
	_, err = f.s.PartnerAnswerStep(f.ctx, token, "198.51.100.7", sent.Reference, PartnerAnswer{Answer: tgmail.PartnerAnswerDone})
	var closed *LinkClosedError
	if !errors.As(err, &closed) || closed.State != LinkAnswered {
		t.Errorf("a second answer: %v", err)
	}
	if _, err := f.s.PartnerView(f.ctx, token, "198.51.100.7"); !errors.As(err, &closed) {
		t.Errorf("the page after the answer: %v", err)
	}
	// Every use is audited: views, references, the answer.
	for action, want := range map[string]int{"partner.view": 2, "partner.reference": 2, "partner.answer": 2} {
		if got := len(f.auditLines(action, "partnercase2")); got < want {
			t.Errorf("%d %s audit lines, want at least %d", got, action, want)
		}
	}
	links, err := f.s.PartnerLinks(f.ctx, f.as("officer-1"), "partnercase2", resettlement.StepHousingReferral)
	if err != nil || len(links.Items) != 1 || links.Items[0].State != LinkAnswered || links.Items[0].Answer != tgmail.PartnerAnswerDone {
		t.Errorf("links %+v %v", links, err)
	}
}

func TestPartnerStillWaitingAddsANote(t *testing.T) {
	f := newFixture(t)
	f.waitingCase("partnercase3")
	f.consent("partnercase3", PurposeHousingReferral, "c1")
	sent, token := f.sendLink("partnercase3", "l1")
	if _, err := f.s.PartnerAnswerStep(f.ctx, token, "198.51.100.7", sent.Reference, PartnerAnswer{Answer: tgmail.PartnerAnswerWaiting,
		Note: "Assessment booked for the 20th; decision after."}); err != nil {
		t.Fatal(err)
	}
	if st := f.stepOf("partnercase3", resettlement.StepHousingReferral); st.Status != resettlement.StepWaiting {
		t.Errorf("the step is %s", st.Status)
	}
	if acts := f.auditLines("case.ActOnStep", "partnercase3"); !strings.Contains(acts[0].Detail, "action=note ok") {
		t.Errorf("audit %+v", acts[0])
	}
}

func TestPartnerLinkLocksRevokesAndExpires(t *testing.T) {
	f := newFixture(t)
	f.waitingCase("partnercase4")
	c := f.consent("partnercase4", PurposeHousingReferral, "c1")
	var closed *LinkClosedError

	// Five wrong references lock the link.
	_, token := f.sendLink("partnercase4", "l1")
	for i := 1; i <= postgres.MaxReferenceAttempts; i++ {
		_, err := f.s.PartnerReference(f.ctx, token, "203.0.113.9", "WRNG-0000")
		if i < postgres.MaxReferenceAttempts {
			wantFieldError(t, err, Invalid, "reference")
		} else if !errors.As(err, &closed) || closed.State != LinkLocked {
			t.Fatalf("the fifth wrong reference: %v", err)
		}
	}
	if _, err := f.s.PartnerView(f.ctx, token, "203.0.113.9"); !errors.As(err, &closed) || closed.State != LinkLocked {
		t.Errorf("a locked link's page: %v", err)
	}

	// Revoked by the officer.
	sent, token := f.sendLink("partnercase4", "l2")
	if v, err := f.s.RevokePartnerLink(f.ctx, f.as("manager-1"), "partnercase4", resettlement.StepHousingReferral, sent.Link.ID, "r1"); err != nil || v.State != LinkRevoked {
		t.Fatalf("revoke: %+v %v", v, err)
	}
	if _, err := f.s.PartnerView(f.ctx, token, "203.0.113.9"); !errors.As(err, &closed) || closed.State != LinkRevoked {
		t.Errorf("a revoked link's page: %v", err)
	}
	if _, err := f.s.RevokePartnerLink(f.ctx, f.as("officer-1"), "partnercase4", resettlement.StepBenefits, sent.Link.ID, "r2"); Status(err) != 404 {
		t.Errorf("revoking through another step: %v", err)
	}

	// Withdrawn consent revokes the open links sent under it, and the
	// housing referral can no longer be completed.
	sent, token = f.sendLink("partnercase4", "l3")
	w, err := f.s.WithdrawConsent(f.ctx, f.as("officer-1"), "partnercase4", "w1", c.ID, WithdrawConsent{})
	if err != nil || len(w.Revoked) != 1 || w.Revoked[0] != sent.Link.ID {
		t.Fatalf("withdraw: %+v %v", w, err)
	}
	if _, err := f.s.PartnerView(f.ctx, token, "203.0.113.9"); !errors.As(err, &closed) || closed.State != LinkRevoked {
		t.Errorf("a link after its consent was withdrawn: %v", err)
	}
	if lines := f.auditLines("partner_link.revoke", "partnercase4"); len(lines) != 2 {
		t.Errorf("revocations audited: %+v", lines)
	}
	_, err = f.s.Act(f.ctx, f.as("officer-1"), "partnercase4", "done1", ActOnStep{StepID: resettlement.StepHousingReferral, Action: resettlement.ActionComplete})
	wantFieldError(t, err, Invalid, "consent")

	// Expired after PARTNER_LINK_DAYS.
	f.consent("partnercase4", PurposeHousingReferral, "c2")
	f.s.PartnerLinkDays = 2
	_, token = f.sendLink("partnercase4", "l4")
	later := testNow.Add(49 * time.Hour)
	f.s.Now = func() time.Time { return later }
	if _, err := f.s.PartnerView(f.ctx, token, "203.0.113.9"); !errors.As(err, &closed) || closed.State != LinkExpired {
		t.Errorf("an expired link's page: %v", err)
	}
}

func TestHousingReferralNeedsConsent(t *testing.T) {
	f := newFixture(t)
	f.withEngine()
	f.readModelCase("consentcase1", openReq("A1111AA"))
	complete := ActOnStep{StepID: resettlement.StepHousingReferral, Action: resettlement.ActionComplete}
	_, err := f.s.Act(f.ctx, f.as("officer-1"), "consentcase1", "k1", complete)
	wantFieldError(t, err, Invalid, "consent")
	if st := f.stepOf("consentcase1", resettlement.StepHousingReferral); st.Status != resettlement.StepNotStarted {
		t.Errorf("a refused completion changed the step: %s", st.Status)
	}
	if lines := f.auditLines("case.ActOnStep", "consentcase1"); len(lines) != 1 || !strings.Contains(lines[0].Detail, "refused 422") {
		t.Errorf("the refusal's audit: %+v", lines)
	}
	// Other steps and actions need none.
	f.actOK("officer-1", "consentcase1", "k2", ActOnStep{StepID: resettlement.StepHousingReferral, Action: resettlement.ActionStart})
	f.actOK("officer-1", "consentcase1", "k3", ActOnStep{StepID: resettlement.StepImmediateNeeds, Action: resettlement.ActionComplete})
	// Consent to another purpose is not enough; the duty to refer's is.
	f.consent("consentcase1", PurposeGPSharing, "c1")
	_, err = f.s.Act(f.ctx, f.as("officer-1"), "consentcase1", "k4", complete)
	wantFieldError(t, err, Invalid, "consent")
	f.consent("consentcase1", PurposeHousingReferral, "c2")
	f.actOK("officer-1", "consentcase1", "k4", complete) // the key freed by the refusal
	if st := f.stepOf("consentcase1", resettlement.StepHousingReferral); st.Status != resettlement.StepDone {
		t.Errorf("the step is %s", st.Status)
	}
}

func TestConsentRecordAndWithdraw(t *testing.T) {
	f := newFixture(t)
	f.readModelCase("consentcase2", openReq("A1111AA"))
	p := f.as("officer-1")
	for _, c := range []struct {
		r     RecordConsent
		field string
	}{
		{RecordConsent{Purpose: "marketing"}, "purpose"},
		{RecordConsent{Purpose: "partner:"}, "purpose"},
		{RecordConsent{Purpose: "partner:" + strings.Repeat("x", 101)}, "purpose"},
		{RecordConsent{Purpose: "partner:Jobcentre\u202e"}, "purpose"},
		{RecordConsent{Purpose: PurposeGPSharing, GivenOn: resettlement.DateOf(testNow).AddDays(1)}, "given_on"},
	} {
		_, _, err := f.s.RecordConsent(f.ctx, p, "consentcase2", "bad", c.r)
		wantFieldError(t, err, Invalid, c.field)
	}
	c, created, err := f.s.RecordConsent(f.ctx, p, "consentcase2", "k1", RecordConsent{Purpose: " partner:Islington   Jobcentre "})
	if err != nil || !created || c.Purpose != "partner:Islington Jobcentre" || c.GivenOn != resettlement.DateOf(testNow) || c.RecordedBy != "officer-1" {
		t.Fatalf("record: %+v %v %v", c, created, err)
	}
	again, created, err := f.s.RecordConsent(f.ctx, p, "consentcase2", "k1", RecordConsent{Purpose: " partner:Islington   Jobcentre "})
	if err != nil || created || again.ID != c.ID {
		t.Errorf("retry: %+v %v %v", again, created, err)
	}
	if _, _, err := f.s.RecordConsent(f.ctx, p, "consentcase2", "k1", RecordConsent{Purpose: PurposeGPSharing}); err == nil {
		t.Error("a key used again for another consent")
	}
	if _, _, err := f.s.RecordConsent(f.ctx, p, "consentcase2", "k2", RecordConsent{Purpose: "partner:islington jobcentre"}); Status(err) != 409 {
		t.Errorf("a second live consent: %v", err)
	}
	if _, _, err := f.s.RecordConsent(f.ctx, f.as("officer-2"), "consentcase2", "k3", RecordConsent{Purpose: PurposeGPSharing}); Status(err) != 404 {
		t.Errorf("another prison's officer: %v", err)
	}
	if _, _, err := f.s.RecordConsent(f.ctx, f.as("admin-1"), "consentcase2", "k3", RecordConsent{Purpose: PurposeGPSharing}); Status(err) != 403 {
		t.Errorf("an administrator: %v", err)
	}
	w, err := f.s.WithdrawConsent(f.ctx, f.as("manager-1"), "consentcase2", "w1", c.ID, WithdrawConsent{})
	if err != nil || w.Consent.Live() || w.Consent.WithdrawnBy != "manager-1" {
		t.Fatalf("withdraw: %+v %v", w, err)
	}
	if _, err := f.s.WithdrawConsent(f.ctx, p, "consentcase2", "w2", 999999, WithdrawConsent{}); Status(err) != 404 {
		t.Errorf("no such consent: %v", err)
	}
	list, err := f.s.Consents(f.ctx, p, "consentcase2")
	if err != nil || len(list.Items) != 1 || list.Items[0].Live() {
		t.Errorf("list %+v %v", list, err)
	}
	for _, action := range []string{"consent.record", "consent.withdraw", "consent.list"} {
		if len(f.auditLines(action, "consentcase2")) == 0 {
			t.Errorf("no %s audit line", action)
		}
	}
}
