package resettlement

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestHousingReminderExample pins the worked example in the catalogue's doc
// comment (catalogue.go): every instant it states is the one the code
// computes, and the comment still states every one of them.
func TestHousingReminderExample(t *testing.T) {
	opened := at(2026, 11, 23, 10, 0)
	c := openCase(t, OpenCase{Owner: "officer-1", ReceivedOn: D(2026, 11, 20), Adult: true,
		Dates: ReleaseDates{CRD: D(2027, 3, 12)}}, opened)

	day, ok := c.ReleaseDay()
	if want := D(2027, 3, 11); !ok || day != want {
		t.Fatalf("release day %s, want %s (a Friday CRD moves to the Thursday)", day, want)
	}
	s, _ := c.Step(StepHousingReferral)
	if want := D(2027, 1, 14); s.DueDate != want || !s.From.IsZero() || s.Graced {
		t.Fatalf("housing referral window from %q due %s (graced %v), want no start and due %s", s.From, s.DueDate, s.Graced, want)
	}
	if want := at(2027, 1, 14, 17, 0); !s.Due.Equal(want) {
		t.Fatalf("due instant %s, want %s", s.Due, want)
	}

	ladder := []struct {
		key   string
		kind  AlarmKind
		level int
		at    time.Time
	}{
		{"c0/housing-referral/2027-01-14/reminder", AlarmReminder, 0, at(2027, 1, 11, 9, 0)},
		{"c0/housing-referral/2027-01-14/due", AlarmDue, 0, at(2027, 1, 14, 9, 0)},
		{"c0/housing-referral/2027-01-14/escalation-1", AlarmEscalation, 1, at(2027, 1, 18, 17, 0)},
		{"c0/housing-referral/2027-01-14/escalation-2", AlarmEscalation, 2, at(2027, 1, 21, 17, 0)},
	}
	var got []Alarm
	for _, a := range c.Alarms() {
		if a.StepID == StepHousingReferral {
			got = append(got, a)
		}
	}
	if len(got) != len(ladder) {
		t.Fatalf("housing referral has %d alarms, want %d: %+v", len(got), len(ladder), got)
	}
	for i, w := range ladder {
		if g := got[i]; g.Key != w.key || g.Kind != w.kind || g.Level != w.level || !g.At.Equal(w.at) {
			t.Errorf("alarm %d: %s %s level %d at %s, want %s %s level %d at %s",
				i, g.Key, g.Kind, g.Level, g.At.In(London), w.key, w.kind, w.level, w.at.In(London))
		}
	}

	// Raised by TakeDue at those instants, not a second before.
	for _, w := range ladder {
		if raised(c.Clone().TakeDue(w.at.Add(-time.Second)), w.key) {
			t.Errorf("%s raised before %s", w.key, w.at.In(London))
		}
		if !raised(c.TakeDue(w.at), w.key) {
			t.Errorf("%s not raised at %s", w.key, w.at.In(London))
		}
	}

	// The doc comment states each of these, however its lines wrap.
	comment := catalogueComment(t)
	phrases := []string{"Friday 20 November 2026", "Friday 12 March 2027", "R − 56 days"}
	for _, d := range []time.Time{day.At(0), s.DueDate.At(0)} {
		phrases = append(phrases, d.Format("Monday 2 January 2006"))
	}
	phrases = append(phrases, s.Due.In(London).Format("Monday 2 January 2006 15:04"))
	for _, w := range ladder {
		phrases = append(phrases, w.at.In(London).Format("Monday 2 January 2006 15:04"), strings.TrimPrefix(w.key, "c0/housing-referral/2027-01-14/"))
	}
	phrases = append(phrases, "c0/housing-referral/2027-01-14/")
	for _, p := range phrases {
		if !strings.Contains(comment, p) {
			t.Errorf("the catalogue's doc comment no longer says %q", p)
		}
	}
}

func raised(as []Alarm, key string) bool {
	return slices.ContainsFunc(as, func(a Alarm) bool { return a.Key == key })
}

// catalogueComment returns the doc comment of the catalogue variable, its
// lines joined with single spaces.
func catalogueComment(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile("catalogue.go")
	if err != nil {
		t.Fatal(err)
	}
	text := string(src)
	end := strings.Index(text, "\nvar catalogue = ")
	if end < 0 {
		t.Fatal("catalogue.go has no catalogue variable")
	}
	lines := strings.Split(text[:end], "\n")
	start := len(lines)
	for start > 0 && strings.HasPrefix(lines[start-1], "//") {
		start--
	}
	var b strings.Builder
	for _, l := range lines[start:] {
		b.WriteString(strings.TrimPrefix(l, "//"))
		b.WriteByte(' ')
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

func TestStepIDsAreTheCatalogues(t *testing.T) {
	want := []string{StepIdentify, StepImmediateNeeds, StepNeedsAssessment, StepHousingReferral, StepIDDocuments,
		StepBankAccount, StepBenefits, StepGPRegistration, StepMedicines, StepReleasePlan, StepRelease,
		StepFollowUpNightOne, StepFollowUpFirstWeek, StepFollowUpFourWeeks, StepFollowUp12Weeks}
	if got := StandardStepIDs(); !slices.Equal(got, want) {
		t.Errorf("catalogue ids %v, want the Step constants in order %v", got, want)
	}
	// The values are stored in databases and workflow histories.
	stored := "identify immediate-needs needs-assessment housing-referral id-documents bank-account benefits gp-registration medicines release-plan release follow-up-1 follow-up-7 follow-up-28 follow-up-84"
	if got := strings.Join(want, " "); got != stored {
		t.Errorf("step ids changed:\n got %s\nwant %s", got, stored)
	}
	if got := SupportStepID(DrugsAlcohol); got != "support-drugs-alcohol" {
		t.Errorf("SupportStepID = %q", got)
	}
	if got := HandoverStepID(1); got != "handover-1" {
		t.Errorf("HandoverStepID = %q", got)
	}
	for _, p := range Plans {
		for _, e := range p.Steps {
			if !e.Kind.Valid() {
				t.Errorf("plan %d, %s: kind %q is not in StepKinds", p.Version, e.ID, e.Kind)
			}
			if e.Pathway != "" && !e.Pathway.Valid() {
				t.Errorf("plan %d, %s: pathway %q is not in Pathways", p.Version, e.ID, e.Pathway)
			}
		}
	}
	for i, p := range Plans {
		if p.Version != i+1 || p.Rules < rulesFirst || p.Rules > rulesFixed || p.Changes == "" {
			t.Errorf("Plans[%d] = version %d, rules %d, changes %q: want version %d, known rules and a sentence", i, p.Version, p.Rules, p.Changes, i+1)
		}
	}
	for k := range actions {
		if !k.Valid() {
			t.Errorf("action for unknown kind %q", k)
		}
	}
	for _, k := range StepKinds {
		if _, ok := actions[k]; !ok {
			t.Errorf("kind %q has no action", k)
		}
	}
}

// TestEnumLists checks that each enum's one list holds its values, with the
// stored strings unchanged, and that Valid agrees with it.
func TestEnumLists(t *testing.T) {
	kebab := regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	check := func(name string, got []string, want string, valid func(string) bool) {
		t.Helper()
		if g := strings.Join(got, " "); g != want {
			t.Errorf("%s: %s, want %s", name, g, want)
		}
		for _, v := range got {
			if !valid(v) || !kebab.MatchString(v) {
				t.Errorf("%s: %q is not valid", name, v)
			}
		}
		if valid("") || valid("bogus") {
			t.Errorf("%s: Valid accepts what is not in the list", name)
		}
	}
	str := func(vs ...string) []string { return vs }
	check("Stages", strs(Stages), "identified assessment pre-release-plan release follow-up closed", func(s string) bool { return Stage(s).Valid() })
	check("StepStatuses", strs(StepStatuses), "not-started in-progress waiting done not-needed declined cancelled", func(s string) bool { return StepStatus(s).Valid() })
	check("OpenStepStatuses", strs(OpenStepStatuses), "not-started in-progress waiting", func(s string) bool { return StepStatus(s).Open() })
	check("Pathways", strs(Pathways), "accommodation attitudes-thinking-behaviour children-families-communities drugs-alcohol education-skills-work finance-id health", func(s string) bool { return Pathway(s).Valid() })
	check("PathwayStatuses", strs(PathwayStatuses), "not-started in-progress support-required support-not-required support-declined done", func(s string) bool { return PathwayStatus(s).Valid() })
	check("SkipReasons", strs(SkipReasons), "completed-in-oasys completed-in-another-prison early-release transfer other", func(s string) bool { return SkipReason(s).Valid() })
	check("CloseReasons", strs(CloseReasons), "completed support-declined transferred-to-hospital deported died-in-custody release-cancelled opened-in-error other", func(s string) bool { return CloseReason(s).Valid() })
	check("ResetReasons", strs(ResetReasons), "recall new-sentence", func(s string) bool { return ResetReason(s).Valid() })
	check("PauseReasons", strs(PauseReasons), "awaiting-court-date hospital-transfer-pending awaiting-sentence-calculation unlawfully-at-large other", func(s string) bool { return PauseReason(s).Valid() })
	check("ReleaseDateReasons", str(ReleaseDateReasons...), "recalculation parole-decision added-days hdc-decision release-cancelled release-deferred correction other", ValidReleaseDateReason)
	check("StepActions", strs(StepActions), "start complete reopen not-needed waiting decline note", func(s string) bool { return StepAction(s).Valid() })
	check("StepKinds", strs(StepKinds), "identify immediate-needs needs-assessment housing-referral id-documents bank-account benefits gp-registration medicines release-plan release follow-up pathway-support handover", func(s string) bool { return StepKind(s).Valid() })
	check("AlarmKinds", strs(AlarmKinds), "reminder due escalation unassigned stalled", func(s string) bool { return AlarmKind(s).Valid() })
	check("ReleaseKinds", strs(ReleaseKinds), "standard hdc parole indeterminate", func(s string) bool { return ReleaseKind(s).Valid() })

	var sev []string
	for _, s := range Severities {
		if !s.Valid() {
			t.Errorf("severity %d is not valid", s)
		}
		sev = append(sev, s.String())
	}
	if g := strings.Join(sev, " "); g != "none low medium high critical" {
		t.Errorf("Severities: %s", g)
	}
	if Severity(len(Severities)).Valid() || Severity(-1).Valid() {
		t.Error("Severity.Valid accepts a grade past the list")
	}

	for _, s := range StepStatuses {
		if s.Title() == string(s) || s.Title() == "" {
			t.Errorf("step status %q has no title", s)
		}
	}
	for _, s := range PathwayStatuses {
		if s.Title() == string(s) || s.Title() == "" {
			t.Errorf("pathway status %q has no title", s)
		}
	}
	for _, s := range Stages {
		if s.Title() == string(s) || s.Title() == "" {
			t.Errorf("stage %q has no title", s)
		}
	}
}

func strs[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}
