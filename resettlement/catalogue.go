package resettlement

import (
	"fmt"
	"slices"
)

// StepKind names a kind of step in the catalogue.
type StepKind string

const (
	KindIdentify        StepKind = "identify"
	KindImmediateNeeds  StepKind = "immediate-needs"
	KindNeedsAssessment StepKind = "needs-assessment"
	KindHousingReferral StepKind = "housing-referral"
	KindIDDocuments     StepKind = "id-documents"
	KindBankAccount     StepKind = "bank-account"
	KindBenefits        StepKind = "benefits"
	KindGPRegistration  StepKind = "gp-registration"
	KindMedicines       StepKind = "medicines"
	KindReleasePlan     StepKind = "release-plan"
	KindRelease         StepKind = "release"
	KindFollowUp        StepKind = "follow-up"
	KindPathwaySupport  StepKind = "pathway-support"
	KindHandover        StepKind = "handover"
)

// StepKinds lists every kind of step, in catalogue order, then the kinds
// added while a case runs (pathway support, handover). Read it; never
// modify it.
var StepKinds = []StepKind{KindIdentify, KindImmediateNeeds, KindNeedsAssessment, KindHousingReferral,
	KindIDDocuments, KindBankAccount, KindBenefits, KindGPRegistration, KindMedicines, KindReleasePlan,
	KindRelease, KindFollowUp, KindPathwaySupport, KindHandover}

// Valid reports whether k is a known kind of step.
func (k StepKind) Valid() bool { return slices.Contains(StepKinds, k) }

// Step ids of the standard plan, one per catalogue row. A step's id is
// stored in PostgreSQL (steps.id, case_events.step_id), in alarm keys and in
// every workflow history: never change a value, only add new ones.
//
// Steps added while a case runs have ids made by SupportStepID and
// HandoverStepID.
const (
	StepIdentify          = "identify"
	StepImmediateNeeds    = "immediate-needs"
	StepNeedsAssessment   = "needs-assessment"
	StepHousingReferral   = "housing-referral"
	StepIDDocuments       = "id-documents"
	StepBankAccount       = "bank-account"
	StepBenefits          = "benefits"
	StepGPRegistration    = "gp-registration"
	StepMedicines         = "medicines"
	StepReleasePlan       = "release-plan"
	StepRelease           = "release"
	StepFollowUpNightOne  = "follow-up-1"
	StepFollowUpFirstWeek = "follow-up-7"
	StepFollowUpFourWeeks = "follow-up-28"
	StepFollowUp12Weeks   = "follow-up-84"
)

// SupportStepID is the id of the step RecordAssessment adds when a pathway
// with no standard step of its own needs support ("support-drugs-alcohol").
func SupportStepID(p Pathway) string { return "support-" + string(p) }

// HandoverStepID is the id of the n-th handover step a transfer adds,
// counting from 1 ("handover-1").
func HandoverStepID(n int) string { return fmt.Sprintf("handover-%d", n) }

// StandardStepIDs returns the ids of the current plan's steps in the order a
// case shows them.
func StandardStepIDs() []string {
	steps := CurrentPlan().Steps
	ids := make([]string, len(steps))
	for i, e := range steps {
		ids[i] = e.ID
	}
	return ids
}

// Anchor is what a step's window is measured from.
type Anchor int

const (
	FromReception Anchor = iota // C, the day the person was received (Case.ReceivedOn)
	FromRelease                 // R, the release day (Case.ReleaseDay)
)

// Shift is a calendar move applied to an anchor date: months, then calendar
// days, then working days.
type Shift struct{ Months, Days, WorkingDays int }

func (s Shift) apply(c Calendar, d Date) Date {
	return c.AddWorkingDays(d.AddMonths(s.Months).AddDays(s.Days), s.WorkingDays)
}

// calendarDays reports whether the shift ends on a calendar-day count, which
// may land on a weekend or bank holiday; a shift that ends with working days
// always lands on a working day.
func (s Shift) calendarDays() bool { return s.WorkingDays == 0 && (s.Months != 0 || s.Days != 0) }

// PlanStep is one row of a plan: a step every case under the plan has.
type PlanStep struct {
	ID, Title string
	Kind      StepKind
	Pathway   Pathway
	Blocking  bool
	Anchor    Anchor
	From      *Shift // nil: no start window
	Due       Shift
}

// catalogue is the standard plan's steps (plans 1 and 2 of Plans), one row
// per step, in the order a case shows them. Each row says what the step's
// window is measured from (C, the day the person was received; R, the
// release day of Case.ReleaseDay) and how far: "Due" is the day the step is
// due, "From" the first day work may start. docs/design.md, "The step
// catalogue", gives the reason and the public source of each window.
//
// # Changing the catalogue safely
//
// Never edit these rows: running cases read them (each case runs under the
// plan it opened with, Case.Plan) and their workflow histories replay
// against them. To add, remove or re-time a step, copy the rows into a new
// variable, change the copy, and append a Plan to Plans (plan.go) that uses
// it; new cases get the new plan, running ones keep theirs until someone
// moves them with `throughgate cases migrate-plan`. A new step needs a new id
// constant above; never reuse an id. TestAddingAPlanKeepsHistoriesReplaying
// (package workflows) shows the whole change.
//
// # When does a step's reminder fire?
//
// Everything about a step's timing is in its row here plus the case's
// Policy (DefaultPolicy unless the service configured its own); Case.Alarms
// turns the two into instants and nothing else moves them. Worked through
// for the housing referral of an adult received on Friday 20 November 2026,
// whose conditional release date (CRD) is Friday 12 March 2027, under
// DefaultPolicy. Times are London wall-clock times (GMT in January).
// TestHousingReminderExample checks every date, time and key below against
// the code, and that this comment still states them, so the two cannot
// drift apart.
//
//  1. Release day R (Calendar.ReleaseDay): a standard release of an adult
//     who has served at least 28 days, due on a Friday, moves one working
//     day earlier, to Thursday 11 March 2027.
//  2. Due date (the row's due, R − 56 days): Thursday 14 January 2027. The
//     row has no "from", so work may start at once.
//  3. Due instant (Policy.DueTime, 17:00): Thursday 14 January 2027 17:00.
//     Had that instant already passed when the step was planned, the step
//     would instead be due Policy.Grace (2 working days) after that moment.
//  4. Reminder to the owner (Policy.RemindBefore: 3 working days back, then
//     8 hours back): Monday 11 January 2027 09:00.
//  5. Due-day reminder to the owner (Policy.RemindOnDue: 8 hours back):
//     Thursday 14 January 2027 09:00.
//  6. Escalation 1, to the owner's team manager (Policy.Escalations[0]:
//     2 working days on, over the weekend): Monday 18 January 2027 17:00.
//  7. Escalation 2, to the head of service (Policy.Escalations[1]: 7
//     calendar days on): Thursday 21 January 2027 17:00.
//
// Each alarm fires once: its key (here "c0/housing-referral/2027-01-14/"
// then "reminder", "due", "escalation-1" or "escalation-2") is recorded in
// Case.Fired when TakeDue raises it. Alarms fire only while the step is open
// and the case is neither paused nor closed. A change of release date moves
// R and with it every instant above; the key carries the due date, so the
// moved ladder reminds afresh. Who receives each email is decided by the
// RaiseAlarm activity (package activities).
var catalogue = []PlanStep{
	{ID: StepIdentify, Title: "Identify and open case", Kind: KindIdentify, Anchor: FromReception},
	// Immediate needs are screened on reception (2022 pre-release framework).
	{ID: StepImmediateNeeds, Title: "Immediate needs screening", Kind: KindImmediateNeeds, Anchor: FromReception, Due: Shift{Days: 3}},
	// The pre-release window opens 12 weeks out; see needsAssessmentDue for the late-identification rule.
	{ID: StepNeedsAssessment, Title: "Pre-release needs assessment (all pathways)", Kind: KindNeedsAssessment, Anchor: FromRelease, From: &Shift{Days: -84}, Due: Shift{Days: -70}},
	// Homelessness Reduction Act 2017: the council owes a 56-day prevention duty.
	{ID: StepHousingReferral, Title: "Housing: duty to refer", Kind: KindHousingReferral, Pathway: Accommodation, Blocking: true, Anchor: FromRelease, Due: Shift{Days: -56}},
	// ID funding covers people with 12 weeks or less to serve.
	{ID: StepIDDocuments, Title: "ID documents", Kind: KindIDDocuments, Pathway: FinanceID, Blocking: true, Anchor: FromRelease, From: &Shift{Days: -84}, Due: Shift{Days: -28}},
	// The prison banking scheme takes applications between 6 months and 6 weeks out.
	{ID: StepBankAccount, Title: "Bank account", Kind: KindBankAccount, Pathway: FinanceID, Blocking: true, Anchor: FromRelease, From: &Shift{Months: -6}, Due: Shift{Days: -42}},
	{ID: StepBenefits, Title: "Universal Credit claim prepared and jobcentre appointment booked", Kind: KindBenefits, Pathway: FinanceID, Anchor: FromRelease, Due: Shift{Days: -7}},
	// Practices may register people up to four weeks before release.
	{ID: StepGPRegistration, Title: "GP registration", Kind: KindGPRegistration, Pathway: Health, Blocking: true, Anchor: FromRelease, From: &Shift{Days: -28}, Due: Shift{Days: -7}},
	{ID: StepMedicines, Title: "Medicines and prescriptions for release day", Kind: KindMedicines, Pathway: Health, Anchor: FromRelease, Due: Shift{Days: -2}},
	{ID: StepReleasePlan, Title: "Release-day plan confirmed (night-one accommodation, travel, appointments)", Kind: KindReleasePlan, Pathway: Accommodation, Blocking: true, Anchor: FromRelease, Due: Shift{WorkingDays: -2}},
	{ID: StepRelease, Title: "Release", Kind: KindRelease, Anchor: FromRelease},
	{ID: StepFollowUpNightOne, Title: "Follow-up: night one", Kind: KindFollowUp, Anchor: FromRelease, From: &Shift{Days: 1}, Due: Shift{Days: 1}},
	{ID: StepFollowUpFirstWeek, Title: "Follow-up: first week", Kind: KindFollowUp, Anchor: FromRelease, From: &Shift{Days: 7}, Due: Shift{Days: 7}},
	{ID: StepFollowUpFourWeeks, Title: "Follow-up: four weeks", Kind: KindFollowUp, Anchor: FromRelease, From: &Shift{Days: 28}, Due: Shift{Days: 28}},
	{ID: StepFollowUp12Weeks, Title: "Follow-up: 12-week accommodation outcome", Kind: KindFollowUp, Pathway: Accommodation, Anchor: FromRelease, From: &Shift{Days: 84}, Due: Shift{Days: 84}},
}

// actions say, in one sentence, what the owner of a step of each kind does.
var actions = map[StepKind]string{
	KindIdentify:        "Confirm the person's identity and open the case.",
	KindImmediateNeeds:  "Screen the person's immediate needs on reception and record what needs urgent action.",
	KindNeedsAssessment: "Assess the person's needs on all seven resettlement pathways and record the result.",
	KindHousingReferral: "Make the duty-to-refer referral to the local housing authority the person chooses, with their consent to share contact details.",
	KindIDDocuments:     "Apply for the person's ID documents (birth certificate, provisional licence or passport) so they leave with ID.",
	KindBankAccount:     "Open a bank account through the prison banking scheme.",
	KindBenefits:        "Have the prison work coach prepare the Universal Credit claim and book the first jobcentre appointment.",
	KindGPRegistration:  "Register the person with a GP practice near where they will live; lack of ID or address is no reason to refuse.",
	KindMedicines:       "Arrange medicines and prescriptions to take out on release day.",
	KindReleasePlan:     "Confirm night-one accommodation, travel and first appointments for release day.",
	KindRelease:         "Record the release on the day.",
	KindFollowUp:        "Contact the person and record how they are doing, accommodation first.",
	KindPathwaySupport:  "Arrange the support the assessment found the person needs on this pathway.",
	KindHandover:        "Read the sending prison's notes, take ownership of the open steps and contact the person.",
}

// Action says what the step's owner has to do.
func (s Step) Action() string { return actions[s.Kind] }

// supportDue is when a pathway without a standard step of its own needs its
// support arranged, once the assessment says support is required.
var supportDue = Shift{Days: -28}
